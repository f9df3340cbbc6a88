export { main } from './main.ts';
export { cliEnvironment, CLI_NAME, IGNORE_FILE } from './config.ts';
