import type { Sealer } from '../secrets/seal.js';
import type { Db } from './sqlite.js';

/**
 * What each declared account was last declared with (MLSPACE_ACCOUNTS, the dev
 * account), so start-up can tell "the same declaration again" (keep the stored
 * keys, which may have been regenerated since) from "a new declaration" (apply it).
 * Declarations hold keys, so every dialect (the SQLite one below,
 * src/db/postgres/account-declarations.ts) stores them sealed.
 */
export interface AccountDeclarationStore {
  /** The unsealed declaration, or undefined when the account was never declared. */
  get(name: string): Promise<string | undefined>;
  /** Replaces any earlier declaration of the account. */
  set(name: string, declaration: string): Promise<void>;
}

/** The SQLite dialect's account declarations. */
export class AccountDeclarationRepo implements AccountDeclarationStore {
  private readonly select;
  private readonly upsert;

  constructor(db: Db, private readonly sealer: Sealer) {
    this.select = db.prepare('SELECT declaration FROM account_declarations WHERE name = ?').pluck();
    this.upsert = db.prepare('INSERT INTO account_declarations (name, declaration) VALUES (?, ?) ON CONFLICT DO UPDATE SET declaration = excluded.declaration');
  }

  async get(name: string): Promise<string | undefined> {
    const sealed = this.select.get(name) as string | undefined;
    return sealed === undefined ? undefined : this.sealer.unseal(sealed);
  }

  async set(name: string, declaration: string): Promise<void> {
    this.upsert.run(name, this.sealer.seal(declaration));
  }
}
