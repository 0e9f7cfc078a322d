import { DeployCheckError } from './errors.js';

/** One instruction of a Dockerfile, continuation lines joined. */
export interface DockerInstruction {
  readonly line: number;
  readonly keyword: string;
  readonly args: string;
}

/** A build stage: its FROM and what follows up to the next FROM. */
export interface DockerStage {
  readonly from: DockerInstruction;
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: readonly DockerInstruction[];
}

/** Splits a Dockerfile into instructions (comments and parser directives dropped). */
export function parseDockerfile(text: string): DockerInstruction[] {
  const instructions: DockerInstruction[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index += 1) {
    const start = index;
    let line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    while (line.endsWith('\\') && index + 1 < lines.length) {
      index += 1;
      const next = lines[index]!.trim();
      line = `${line.slice(0, -1).trimEnd()} ${next.startsWith('#') ? '' : next}`.trimEnd();
    }
    const match = /^([A-Za-z]+)\s+(.*)$/s.exec(line);
    if (match === null)
      throw new DeployCheckError('DOCKERFILE_INVALID', `line ${start + 1}: not an instruction`);
    instructions.push({
      line: start + 1,
      keyword: match[1]!.toUpperCase(),
      args: match[2]!.trim(),
    });
  }
  return instructions;
}

/** Groups instructions by stage; ARGs before the first FROM are global. */
export function stagesOf(instructions: readonly DockerInstruction[]): DockerStage[] {
  const stages: DockerStage[] = [];
  let current: { from: DockerInstruction; instructions: DockerInstruction[] } | undefined;
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      if (current !== undefined) stages.push(stage(current));
      current = { from: instruction, instructions: [] };
    } else if (current !== undefined) {
      current.instructions.push(instruction);
    } else if (instruction.keyword !== 'ARG') {
      throw new DeployCheckError(
        'DOCKERFILE_INVALID',
        `line ${instruction.line}: ${instruction.keyword} before the first FROM`,
      );
    }
  }
  if (current !== undefined) stages.push(stage(current));
  return stages;
}

function stage(raw: { from: DockerInstruction; instructions: DockerInstruction[] }): DockerStage {
  const words = raw.from.args.split(/\s+/).filter((word) => !word.startsWith('--'));
  const as = words.findIndex((word) => word.toUpperCase() === 'AS');
  return {
    from: raw.from,
    image: words[0] ?? '',
    name: as === -1 ? undefined : words[as + 1],
    instructions: raw.instructions,
  };
}

const PINNED = /^[a-z0-9./_-]+(:v?\d+\.\d+\.\d+[0-9A-Za-z.-]*)?(@sha256:[0-9a-f]{64})?$/;
// Installing packages, or running a compiler or a package manager, in the final stage.
const BUILD_TOOLS =
  /(^|[;&|(]\s*)(apt-get\s+install|apt\s+install|apk\s+add|yum\s+install|dnf\s+install|pip3?\s+install|npm\s+(install|i|ci)\b|pnpm\s|yarn\s|corepack\s|npx\s|gcc\s|g\+\+\s|cc\s|make(\s|$)|node-gyp\s)|build-essential/;

/**
 * The image rules hadolint would not know: several stages; every base image pinned by an exact
 * version or a digest (never `latest`, never an ARG); the final stage runs as a numeric non-root
 * user, installs no build tool, has a HEALTHCHECK and an exec-form CMD or ENTRYPOINT.
 */
export function lintDockerfile(text: string): string[] {
  const problems: string[] = [];
  const stages = stagesOf(parseDockerfile(text));
  if (stages.length < 2) problems.push('must be multi-stage (a build stage and a runtime stage)');
  const names = new Set(stages.map((stage) => stage.name).filter(Boolean));
  for (const stage of stages) {
    if (names.has(stage.image)) continue; // FROM an earlier stage
    const pinnedByTag = /:v?\d+\.\d+\.\d+/.test(stage.image);
    const pinnedByDigest = /@sha256:[0-9a-f]{64}$/.test(stage.image);
    if (stage.image.includes('$'))
      problems.push(`line ${stage.from.line}: the base image must be written out, not an ARG`);
    else if (
      /:latest\b/.test(stage.image) ||
      !PINNED.test(stage.image) ||
      !(pinnedByTag || pinnedByDigest)
    )
      problems.push(
        `line ${stage.from.line}: base image ${stage.image} must be pinned by an exact version (x.y.z) or a digest`,
      );
  }
  if (/:latest\b/.test(text)) problems.push('"latest" appears: pin every image');
  const final = stages.at(-1);
  if (final === undefined) return ['has no FROM'];
  const users = final.instructions.filter((instruction) => instruction.keyword === 'USER');
  const user = users.at(-1)?.args;
  if (user === undefined) problems.push('the final stage must set USER');
  else if (!/^[1-9]\d*(:[1-9]\d*)?$/.test(user))
    problems.push(`USER ${user}: must be a numeric, non-root uid (and gid)`);
  for (const instruction of final.instructions) {
    if (instruction.keyword === 'RUN' && BUILD_TOOLS.test(instruction.args))
      problems.push(
        `line ${instruction.line}: the final stage must not install or run build tools`,
      );
    if (instruction.keyword === 'ADD')
      problems.push(`line ${instruction.line}: use COPY in the final stage, not ADD`);
  }
  const healthcheck = final.instructions.find(
    (instruction) => instruction.keyword === 'HEALTHCHECK',
  );
  if (healthcheck === undefined || /^NONE\b/i.test(healthcheck.args))
    problems.push('the final stage must have a HEALTHCHECK');
  const command = final.instructions.filter(
    (instruction) => instruction.keyword === 'CMD' || instruction.keyword === 'ENTRYPOINT',
  );
  if (command.length === 0) problems.push('the final stage must have a CMD or ENTRYPOINT');
  for (const instruction of command)
    if (!instruction.args.startsWith('['))
      problems.push(
        `line ${instruction.line}: ${instruction.keyword} must use the exec form ([…])`,
      );
  return problems;
}
