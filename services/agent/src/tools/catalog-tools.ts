import { z } from 'zod';
import { actionDefinition, type ActionDefinition } from '@heroagent/contracts';

/** A catalog action offered to the model as a tool: its name there, and the JSON schema of its input. */
export interface CatalogTool {
  /** The tool's name as the model sees it (OpenAI tool names allow no dots). */
  readonly name: string;
  readonly action: ActionDefinition;
  readonly description: string;
  /** The action's parameters and a required `rationale`, as a JSON schema. */
  readonly inputSchema: Record<string, unknown>;
}

const RATIONALE = {
  type: 'string',
  minLength: 1,
  maxLength: 2000,
  description:
    'Why you take this step, in one sentence the person will read (it is stored in the audit record).',
};

function describe(action: ActionDefinition): string {
  const undo =
    action.undo.kind === 'none'
      ? action.class === 'read'
        ? 'Reads only.'
        : `Cannot be undone: ${action.undo.reason}.`
      : `Can be undone: ${action.undo.description}.`;
  return `${action.summary} ${undo}`;
}

function toolName(type: string): string {
  return type.replaceAll('.', '_');
}

/**
 * The tools of a task: exactly the actions its capability names, generated from the catalog's
 * schemas. Nothing else is offered, so the model cannot even ask for more than the task may do.
 */
export class CatalogTools {
  private readonly byName = new Map<string, CatalogTool>();

  constructor(actions: readonly string[]) {
    for (const type of actions) {
      const action = actionDefinition(type);
      if (action === undefined) continue;
      const schema = z.toJSONSchema(action.params, { io: 'input', unrepresentable: 'any' });
      const { $schema: _ignored, ...params } = schema as Record<string, unknown>;
      const properties = (params['properties'] ?? {}) as Record<string, unknown>;
      const required = (params['required'] ?? []) as string[];
      const tool: CatalogTool = {
        name: toolName(type),
        action,
        description: describe(action),
        inputSchema: {
          ...params,
          type: 'object',
          properties: { ...properties, rationale: RATIONALE },
          required: [...required, 'rationale'],
          additionalProperties: false,
        },
      };
      if (this.byName.has(tool.name))
        throw new Error(`two actions share the tool name ${tool.name}`);
      this.byName.set(tool.name, tool);
    }
  }

  list(): CatalogTool[] {
    return [...this.byName.values()];
  }

  /** The tool the model named, if the task offers it. */
  find(name: string): CatalogTool | undefined {
    return this.byName.get(name);
  }
}
