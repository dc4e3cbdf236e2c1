import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Crc64, crc64 } from '../../src/bytes/crc64.js';
// The Azure SDK's own CRC-64 (WebAssembly), which its clients send as x-ms-content-crc64: the reference to agree with.
import { StorageCRC64Calculator } from '../../node_modules/@azure/storage-common/dist/esm/StorageCRC64Calculator.js';

describe('CRC-64', () => {
  it("agrees with the Azure SDK's, whole and in pieces", async () => {
    await StorageCRC64Calculator.init();
    expect(crc64(Buffer.from('123456789')).readBigUInt64LE()).toBe(0xae8b14860a799888n);
    for (const size of [0, 1, 7, 8, 9, 1000, 65_537]) {
      const data = randomBytes(size);
      const reference = Buffer.from(new StorageCRC64Calculator().final(data, data.length));
      expect(crc64(data).equals(reference)).toBe(true);
      const pieces = new Crc64().update(data.subarray(0, size >> 1)).update(data.subarray(size >> 1));
      expect(pieces.digest().equals(reference)).toBe(true);
    }
  });
});
