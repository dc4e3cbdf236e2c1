import type { Db } from './sqlite.js';
import { transact } from './transact.js';

/**
 * Each service's Set Service Properties document, per account, kept as the JSON
 * of its XML sections, whichever the dialect.
 */
export interface ServicePropertiesStore {
  get(account: string, service: string): Promise<Record<string, unknown> | undefined>;
  /**
   * Stores the sections given over the stored ones of the same names; the
   * others stay, as Set Service Properties documents. The merge is one
   * transaction, so two requests setting different sections both keep theirs.
   */
  set(account: string, service: string, properties: Record<string, unknown>): Promise<void>;
}

/** The SQLite dialect's service properties: each call one statement or transaction, answered at once. */
export class ServicePropertiesRepo implements ServicePropertiesStore {
  private readonly select;
  private readonly upsert;

  constructor(private readonly db: Db) {
    this.select = db.prepare('SELECT doc FROM service_properties WHERE account = ? AND service = ?').pluck();
    this.upsert = db.prepare('INSERT INTO service_properties (account, service, doc) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET doc = excluded.doc');
  }

  async get(account: string, service: string): Promise<Record<string, unknown> | undefined> {
    return this.read(account, service);
  }

  async set(account: string, service: string, properties: Record<string, unknown>): Promise<void> {
    transact(this.db, () => this.upsert.run(account, service, JSON.stringify({ ...this.read(account, service), ...properties })));
  }

  private read(account: string, service: string): Record<string, unknown> | undefined {
    const doc = this.select.get(account, service) as string | undefined;
    return doc === undefined ? undefined : JSON.parse(doc);
  }
}
