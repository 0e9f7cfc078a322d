export { startNatsServer, freePort, natsPassword, type TestNatsServer } from './nats-server.js';
export {
  startDeployNatsServer,
  deployNatsConfigFile,
  type DeployNatsServer,
} from './deploy-nats.js';
export { startDeployNatsCluster, type DeployNatsCluster } from './nats-cluster.js';
export { launchNodeScript, type LaunchedProcess } from './launched-process.js';
export { configProblems } from './config-problems.js';
