import { describe, expect, it } from 'vitest';
import { PolicyEngine } from './policy-engine.js';

function problems(text: string): string[] {
  const result = PolicyEngine.check(text);
  return result.ok ? [] : result.problems;
}

describe('PolicyEngine.check', () => {
  it('lists the policies with their ids, effects, approval and reasons, in text order', () => {
    const text = `
      @id("send-within-corp")
      @reason("Mail to colleagues needs no approval.")
      permit (principal, action == HeroAgent::Action::"gmail.messages.send", resource)
      when { ["corp.example"].containsAll(context.recipientDomains) };

      @id("shared-calendars")
      @approval("required")
      permit (principal, action in HeroAgent::Action::"calendar", resource)
      when { context.calendarId != "primary" };

      @id("members-may-not-buy")
      @reason("Only owners and admins may purchase.")
      forbid (principal, action in HeroAgent::Action::"purchase", resource)
      when { principal.role == "member" };
    `;
    expect(PolicyEngine.check(text)).toEqual({
      ok: true,
      policies: [
        {
          id: 'send-within-corp',
          effect: 'permit',
          approval: false,
          reason: 'Mail to colleagues needs no approval.',
        },
        { id: 'shared-calendars', effect: 'permit', approval: true },
        {
          id: 'members-may-not-buy',
          effect: 'forbid',
          approval: false,
          reason: 'Only owners and admins may purchase.',
        },
      ],
    });
  });

  it('keeps text order past ten policies', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `rule-${String.fromCharCode(122 - i)}`);
    const text = ids
      .map(
        (id, i) =>
          `@id("${id}") forbid (principal, action, resource) when { context.hour == ${i} };`,
      )
      .join('\n');
    const result = PolicyEngine.check(text);
    expect(result.ok && result.policies.map((policy) => policy.id)).toEqual(ids);
  });

  it('accepts an empty text: the defaults alone apply', () => {
    expect(PolicyEngine.check('')).toEqual({ ok: true, policies: [] });
    expect(PolicyEngine.check('// nothing yet\n')).toEqual({ ok: true, policies: [] });
  });

  it('rejects syntax errors with their position', () => {
    const found = problems('@id("a")\npermit (principal, action, resource) when { x };');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^syntax-error: line 2, column 45: invalid variable: x/);
    expect(problems('@id("a") permit (principal, action, resource)')[0]).toMatch(/^syntax-error:/);
  });

  it('rejects unknown context attributes, with Cedar’s suggestion', () => {
    const found = problems(
      `@id("cap")\nforbid (principal, action, resource) when { context.amout > 100 };`,
    );
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^schema-error: policy "cap" \(line 2, column \d+\): .*amout/);
  });

  it('rejects unknown principal attributes', () => {
    const found = problems(
      `@id("roles") forbid (principal, action, resource) when { principal.rol == "member" };`,
    );
    expect(found[0]).toMatch(/^schema-error: policy "roles" .*`rol`.*did you mean `role`\?/);
  });

  it('rejects unknown actions and action groups', () => {
    const typo = problems(
      `@id("t") forbid (principal, action == HeroAgent::Action::"gmail.mesages.send", resource);`,
    );
    expect(typo[0]).toMatch(
      /^schema-error: policy "t" .*unrecognized action .*gmail\.mesages\.send/,
    );
    const group = problems(
      `@id("g") forbid (principal, action in HeroAgent::Action::"writes", resource);`,
    );
    expect(group[0]).toMatch(/^schema-error: policy "g" .*writes/);
  });

  it('rejects type errors', () => {
    const found = problems(
      `@id("t") forbid (principal, action, resource) when { context.hour > "8" };`,
    );
    expect(found[0]).toMatch(/^schema-error: policy "t" .*expected Long/);
  });

  it('rejects a missing or duplicate @id, naming the policies', () => {
    expect(problems('permit (principal, action, resource);')).toEqual([
      'missing-id: policy #1 (line 1) has no @id("…"); every policy needs one',
    ]);
    const text = [
      '@id("same") permit (principal, action, resource);',
      '',
      '@id("same") forbid (principal, action, resource);',
    ].join('\n');
    expect(problems(text)).toEqual([
      'duplicate-id: @id("same") is used by policies #1 (line 1) and #2 (line 3)',
    ]);
  });

  it('rejects ids HeroAgent keeps for itself and ids that are not names', () => {
    for (const id of ['default-allow-reads', 'default-mine', 'policy-error', 'default-deny']) {
      expect(problems(`@id("${id}") permit (principal, action, resource);`)).toEqual([
        `reserved-id: policy #1 (line 1): @id("${id}") is reserved for HeroAgent's own policies`,
      ]);
    }
    for (const id of ['', ' spaced', 'a b', 'x'.repeat(129)]) {
      expect(problems(`@id("${id}") permit (principal, action, resource);`)[0]).toMatch(
        /^invalid-id: policy #1/,
      );
    }
  });

  it('rejects misused or unknown annotations, so a typo cannot drop an approval', () => {
    expect(problems(`@id("a") @approval("yes") permit (principal, action, resource);`)).toEqual([
      'invalid-annotation: policy #1 (line 1): @approval must be @approval("required")',
    ]);
    expect(
      problems(`@id("a") @approval("required") forbid (principal, action, resource);`),
    ).toEqual([
      'invalid-annotation: policy #1 (line 1): @approval applies to permit, not to forbid',
    ]);
    expect(problems(`@id("a") @aproval("required") permit (principal, action, resource);`)).toEqual(
      [
        'unknown-annotation: policy #1 (line 1): @aproval is not known; use @id, @reason, @approval',
      ],
    );
    expect(problems(`@id("a") @reason("") permit (principal, action, resource);`)).toEqual([
      'invalid-annotation: policy #1 (line 1): @reason needs a sentence',
    ]);
  });

  it('rejects templates', () => {
    expect(problems(`@id("t") permit (principal == ?principal, action, resource);`)[0]).toMatch(
      /^template-unsupported:/,
    );
  });

  it('reports every problem, not only the first', () => {
    const text = [
      'permit (principal, action, resource);',
      '@id("x") forbid (principal, action, resource) when { context.nope };',
    ].join('\n');
    const found = problems(text);
    expect(found.map((problem) => problem.split(':')[0])).toEqual(['missing-id', 'schema-error']);
    expect(found[1]).toContain('line 2');
  });
});
