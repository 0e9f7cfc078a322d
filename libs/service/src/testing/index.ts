export { startNatsServer, freePort, type TestNatsServer } from './nats-server.js';
