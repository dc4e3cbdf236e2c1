import type { Db } from './sqlite.js';

/** Each service's Set Service Properties document, per account, kept as the JSON of its XML sections. */
export class ServicePropertiesRepo {
  private readonly select;
  private readonly upsert;

  constructor(db: Db) {
    this.select = db.prepare('SELECT doc FROM service_properties WHERE account = ? AND service = ?').pluck();
    this.upsert = db.prepare('INSERT INTO service_properties (account, service, doc) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET doc = excluded.doc');
  }

  get(account: string, service: string): Record<string, unknown> | undefined {
    const doc = this.select.get(account, service) as string | undefined;
    return doc === undefined ? undefined : JSON.parse(doc);
  }

  set(account: string, service: string, properties: Record<string, unknown>): void {
    this.upsert.run(account, service, JSON.stringify(properties));
  }
}
