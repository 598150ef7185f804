import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { InputError } from '../errors.js';

export const HUB_REPO_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}\/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$/;
const DEFAULT_HUB_URL = 'https://huggingface.co';

/** A push that did not happen; the local export is untouched. Never carries the token. */
export class HubPushError extends Error {
  override name = 'HubPushError';
}

export interface HubPush {
  /** OWNER/NAME of a dataset repository. */
  repo: string;
  private: boolean;
  /** Data files, uploaded under their own names, and the card, uploaded as README.md. */
  files: string[];
  card: string | undefined;
  /** `HF_TOKEN` and `HF_ENDPOINT` are read from here. */
  env: NodeJS.ProcessEnv;
}

/**
 * Uploads an export's files and its card to a Hub dataset repository as one commit, creating the
 * repository when it does not exist. The token is read from HF_TOKEN at the moment of the push and
 * passed only to the Hub client: it is never stored, logged or returned.
 */
export async function pushToHub(push: HubPush): Promise<{ url: string; commit: string }> {
  if (!HUB_REPO_PATTERN.test(push.repo)) throw new InputError(`push_to_hub: "${push.repo}" is not OWNER/NAME (letters, digits, "-", "_", ".")`);
  if (push.card === undefined) throw new InputError('push_to_hub: the export went into a device or pipe, not files; export to a file path to push it');
  const accessToken = push.env.HF_TOKEN;
  if (!accessToken) throw new HubPushError('push_to_hub: HF_TOKEN is not set; create a token with write access on the Hub and set HF_TOKEN');
  const hubUrl = (push.env.HF_ENDPOINT || DEFAULT_HUB_URL).replace(/\/+$/, '');
  const repo = { type: 'dataset' as const, name: push.repo };
  // Loaded only for a push, so other commands do not pay for the Hub client's start-up.
  const { createRepo, HubApiError, uploadFiles } = await import('@huggingface/hub');
  try {
    try {
      await createRepo({ repo, accessToken, hubUrl, visibility: push.private ? 'private' : 'public' });
    } catch (error) {
      if (!(error instanceof HubApiError && error.statusCode === 409)) throw error; // it exists already
    }
    const files = await Promise.all(
      [...push.files.map((path) => ({ path, name: basename(path) })), { path: push.card, name: 'README.md' }].map(async ({ path, name }) => ({ path: name, content: new Blob([await readFile(path)]) })),
    );
    const result = await uploadFiles({ repo, accessToken, hubUrl, files, commitTitle: 'Upload dataset exported by aidsafe-mcp', useXet: false });
    return { url: `${hubUrl}/datasets/${push.repo}`, commit: result?.commit.oid ?? '' };
  } catch (error) {
    throw new HubPushError(`push_to_hub: ${describe(error, error instanceof HubApiError ? error.statusCode : undefined, hubUrl, push.repo)}`);
  }
}

function describe(error: unknown, status: number | undefined, hubUrl: string, repo: string): string {
  if (status !== undefined) {
    if (status === 401) return `the Hub at ${hubUrl} rejected HF_TOKEN (401); check that the token is valid`;
    if (status === 403) return `the token in HF_TOKEN may not write to ${repo} (403); use a token with write access to that namespace`;
    return `the Hub at ${hubUrl} answered ${status}: ${error instanceof Error ? error.message : String(error)}`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `cannot reach the Hub at ${hubUrl} (${error instanceof Error ? error.message : String(error)}${cause})`;
}
