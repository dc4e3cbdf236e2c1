import { useState } from 'preact/hooks';
import type { Store } from './stores';

interface Upload {
  name: string;
  size: number;
  sent: number;
  state: 'sending' | 'done' | 'failed';
  error?: string;
}

/**
 * Upload files into the folder: each goes in chunks, one after another, with
 * a progress bar that follows the bytes sent. A file of the same name is replaced.
 */
export function Uploads({ store, root, folder, onUploaded }: { store: Store; root: string; folder: string; onUploaded: () => void }) {
  const [uploads, setUploads] = useState<Upload[]>([]);
  const update = (index: number, change: Partial<Upload>) => setUploads((all) => all.map((upload, at) => (at === index ? { ...upload, ...change } : upload)));

  async function start(files: File[]) {
    const first = uploads.length;
    setUploads((all) => [...all, ...files.map((file) => ({ name: file.name, size: file.size, sent: 0, state: 'sending' as const }))]);
    for (const [offset, file] of files.entries()) {
      const index = first + offset;
      try {
        await store.upload(root, `${folder}${file.name}`, file, (sent) => update(index, { sent }));
        update(index, { sent: file.size, state: 'done' });
      } catch (error) {
        update(index, { state: 'failed', error: error instanceof Error ? error.message : String(error) });
      }
      onUploaded();
    }
  }

  return (
    <>
      <label class="button secondary">
        Upload files
        <input
          type="file"
          multiple
          class="visually-hidden"
          onChange={(event) => {
            const files = [...(event.currentTarget.files ?? [])];
            event.currentTarget.value = '';
            if (files.length > 0) start(files);
          }}
        />
      </label>
      {uploads.length > 0 && (
        <div class="upload-list">
          {uploads.map((upload, index) => (
            <div key={index} class="upload">
              <span>{upload.name}</span>
              <progress aria-label={`Uploading ${upload.name}`} max={upload.size || 1} value={upload.size ? upload.sent : upload.state === 'done' ? 1 : 0} />
              <span role="status" class={upload.state === 'failed' ? 'error' : 'muted'}>
                {upload.state === 'failed' ? `Failed: ${upload.error}` : upload.state === 'done' ? 'Uploaded' : `${Math.floor((100 * upload.sent) / (upload.size || 1))}%`}
              </span>
            </div>
          ))}
        </div>
      )}
    </>
  );
}
