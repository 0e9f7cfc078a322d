import { ConfigError } from '../config.js';

/**
 * What `run` (a config parse) refused, as the `ConfigError`'s problems, coded `CONFIG_INVALID`;
 * none if it parsed. Any other error is thrown on.
 */
export function configProblems(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) {
      // Coded CONFIG_INVALID, as the type holds it (a literal the compiler checks).
      const code: 'CONFIG_INVALID' = error.code;
      void code;
      return error.problems;
    }
    throw error;
  }
  return [];
}
