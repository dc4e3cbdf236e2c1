import type { Sealer } from '../secrets/seal.js';
import type { Db } from './sqlite.js';

/**
 * What each declared account was last declared with (MLSPACE_ACCOUNTS, the dev
 * account), so start-up can tell "the same declaration again" (keep the stored
 * keys, which may have been regenerated since) from "a new declaration" (apply it).
 */
export class AccountDeclarationRepo {
  private readonly select;
  private readonly upsert;

  constructor(db: Db, private readonly sealer: Sealer) {
    this.select = db.prepare('SELECT declaration FROM account_declarations WHERE name = ?').pluck();
    this.upsert = db.prepare('INSERT INTO account_declarations (name, declaration) VALUES (?, ?) ON CONFLICT DO UPDATE SET declaration = excluded.declaration');
  }

  get(name: string): string | undefined {
    const sealed = this.select.get(name) as string | undefined;
    return sealed === undefined ? undefined : this.sealer.unseal(sealed);
  }

  set(name: string, declaration: string): void {
    this.upsert.run(name, this.sealer.seal(declaration));
  }
}
