import type { ContentPins } from '../bytes/content-pins.js';
import type { FileStore } from '../db/files.js';
import type { FileServiceHook } from '../management/deps.js';
import { newShare } from '../storage/file/shares.js';

/** What the management plane needs of the File service: its endpoint, workspace shares, and cleanup of deleted accounts. */
export function fileServiceHook(repo: FileStore, pins: ContentPins, endpoint: string): FileServiceHook {
  return {
    endpoint,
    async createShare(account, name) {
      const { share, root } = newShare(account, name);
      // A share that already exists (a workspace re-created on the same account) is kept as it is.
      await repo.createShare(share, root);
    },
    async deleteAccountData(account) {
      for (let page = await repo.listShares(account, '', '', 100); page.items.length > 0; page = await repo.listShares(account, '', '', 100)) {
        for (const share of page.items) pins.remove((await repo.deleteShare(account, share.name)) ?? []);
      }
    },
  };
}
