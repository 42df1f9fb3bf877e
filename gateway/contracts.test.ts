import { expect, test } from 'vitest';
import { ToolContracts } from './contracts.js';

const tools = [
  {
    name: 'submit_bid',
    args: {
      type: 'object',
      required: ['negotiationId', 'amountCents'],
      additionalProperties: false,
      properties: {
        tenant_id: { type: 'string' },
        negotiationId: { type: 'string' },
        amountCents: { type: 'integer', minimum: 0 },
        due: { type: 'string', format: 'date' },
      },
    },
  },
];

test('valid arguments pass; each violation names its argument', () => {
  const c = new ToolContracts(tools, 'manifest.json');
  expect(c.check('submit_bid', { negotiationId: 'n', amountCents: 5, due: '2026-01-31' })).toEqual({ ok: true, errors: [] });
  const bad = c.check('submit_bid', { amountCents: 1.5, due: 'tomorrow', extra: true });
  expect(bad.ok).toBe(false);
  expect(bad.errors).toEqual(
    expect.arrayContaining([
      "args: must have required property 'negotiationId'",
      'args.amountCents: must be integer',
      'args.due: must match format "date"',
      "args: must NOT have additional properties 'extra'",
    ]),
  );
});

test('a tool without a contract fails closed; a contract that does not compile is an input error naming the tool', () => {
  expect(new ToolContracts(tools, 'm').check('other', {}).ok).toBe(false);
  expect(() => new ToolContracts([{ name: 'x', args: { type: 'nonsense' } }], 'm.json')).toThrow(/m.json \(tools.x.args\)/);
  expect(ToolContracts.takesTenant(tools[0]!.args)).toBe(true);
  expect(ToolContracts.takesTenant({ type: 'object' })).toBe(false);
});
