import { describe, expect, it } from 'vitest';
import { parseActivityFilter } from '../../../src/management/activity/filter.js';

describe("the activity log's $filter", () => {
  it('reads the conditions @azure/arm-monitor sends, in any case, joined by and', () => {
    const filter = parseActivityFilter(
      "eventTimestamp ge '2024-01-01T00:00:00Z' and EventTimestamp LE '2024-01-31T00:00:00Z' and resourceGroupName eq 'rg-a' and resourceUri eq '/subscriptions/s/x' and correlationId eq 'c' and resourceProvider eq 'Microsoft.Storage'",
    );
    expect(filter).toEqual({
      from: Date.parse('2024-01-01T00:00:00Z'),
      to: Date.parse('2024-01-31T00:00:00Z'),
      resourceGroup: 'rg-a',
      resourceId: '/subscriptions/s/x',
      correlationId: 'c',
      provider: 'Microsoft.Storage',
    });
  });

  it("reads a doubled quote as a quote, and runs to now without an end time", () => {
    const filter = parseActivityFilter("eventTimestamp ge '2024-01-01' and resourceGroupName eq 'it''s'", 1_000);
    expect(filter).toMatchObject({ resourceGroup: "it's", to: 1_000 });
  });

  it('refuses, naming what is supported: no filter, no start time, a bad time, an unknown field, garbage', () => {
    for (const [filter, expected] of [
      [null, "'$filter' is required"],
      ["resourceGroupName eq 'rg'", 'must give a start time'],
      ["eventTimestamp ge 'yesterday'", "'yesterday' is not an ISO 8601 time"],
      ["eventTimestamp ge '2024-01-01' and caller eq 'me'", "'caller eq' is not supported"],
      ["eventTimestamp ge '2024-01-01' or 1=1", 'could not be read'],
    ] as const) {
      expect(() => parseActivityFilter(filter), String(filter)).toThrow(expected);
    }
  });
});
