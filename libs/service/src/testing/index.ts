export { startNatsServer, freePort, natsPassword, type TestNatsServer } from './nats-server.js';
