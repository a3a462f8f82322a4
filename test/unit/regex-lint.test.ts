// Issue 10, item 3: the lint refuses super-linear regexes, so a pattern like the old Swarm job-name
// rule (exponential on a 40-character jid ending in '!') cannot come back through review.
import { ESLint, Linter } from 'eslint';
import regexp from 'eslint-plugin-regexp';
import { describe, expect, it } from 'vitest';

const RULES = ['regexp/no-super-linear-backtracking', 'regexp/no-super-linear-move'] as const;
const OLD_SWARM = 'export const p = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;\n';
const NEW_SWARM = 'export const p = /^[A-Za-z0-9](?:[-_A-Za-z0-9]*[A-Za-z0-9])?$/;\n';

describe('regex lint (eslint.config.js)', () => {
  it('turns both super-linear rules on as errors for src and test files', async () => {
    const eslint = new ESLint({ cwd: process.cwd() });
    for (const file of ['src/backends/swarm/job-name.ts', 'test/unit/request.test.ts']) {
      const config = (await eslint.calculateConfigForFile(file)) as Linter.Config;
      for (const rule of RULES) expect(config.rules?.[rule], `${rule} on ${file}`).toEqual([2]);
    }
  });

  it('refuses the old Swarm job-name pattern and accepts the linear one', () => {
    const linter = new Linter({ configType: 'flat' });
    const config: Linter.Config[] = [
      {
        plugins: { regexp },
        rules: Object.fromEntries(RULES.map((r) => [r, 'error'])),
      },
    ];
    const old = linter.verify(OLD_SWARM, config);
    expect(old.map((m) => m.ruleId)).toContain('regexp/no-super-linear-backtracking');
    expect(linter.verify(NEW_SWARM, config)).toEqual([]);
  });
});
