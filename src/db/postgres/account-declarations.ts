import type pg from 'pg';
import type { Sealer } from '../../secrets/seal.js';
import type { AccountDeclarationStore } from '../account-declarations.js';

/** The PostgreSQL dialect's account declarations, sealed as the SQLite dialect seals them. */
export class PgAccountDeclarationRepo implements AccountDeclarationStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly sealer: Sealer,
  ) {}

  async get(name: string): Promise<string | undefined> {
    const { rows } = await this.pool.query<{ declaration: string }>('SELECT declaration FROM account_declarations WHERE name = $1', [name]);
    return rows[0] && this.sealer.unseal(rows[0].declaration);
  }

  async set(name: string, declaration: string): Promise<void> {
    await this.pool.query(
      'INSERT INTO account_declarations (name, declaration) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET declaration = excluded.declaration',
      [name, this.sealer.seal(declaration)],
    );
  }
}
