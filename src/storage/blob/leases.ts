import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { LeaseRecord } from '../../db/records.js';
import { StorageError, errors } from '../http/errors.js';
import { header } from '../http/headers.js';

/**
 * Leases on blobs and containers, as Azure's Lease Blob and Lease Container
 * define them. A lease is a record on its blob or container, and its state is
 * computed from that record and the time: nothing runs when a lease expires or
 * a break period ends, so a lease means the same on every request and after a
 * restart.
 */

export type LeaseState = 'available' | 'leased' | 'expired' | 'breaking' | 'broken';
export type LeaseTarget = 'blob' | 'container';

export function leaseState(lease: LeaseRecord | undefined, now: number): LeaseState {
  if (!lease) return 'available';
  if (lease.brokenAt !== undefined) return now < lease.brokenAt ? 'breaking' : 'broken';
  if (lease.expiresAt !== undefined && now >= lease.expiresAt) return 'expired';
  return 'leased';
}

/** Leased and breaking leases lock their resource: writes must name them. */
function isLocked(state: LeaseState): boolean {
  return state === 'leased' || state === 'breaking';
}

/** x-ms-lease-status, -state and -duration, as Get Properties answers them. */
export function addLeaseHeaders(headers: OutgoingHttpHeaders, lease: LeaseRecord | undefined, now: number): void {
  const state = leaseState(lease, now);
  headers['x-ms-lease-status'] = isLocked(state) ? 'locked' : 'unlocked';
  headers['x-ms-lease-state'] = state;
  if (state === 'leased') headers['x-ms-lease-duration'] = lease!.expiresAt === undefined ? 'infinite' : 'fixed';
}

/** `<LeaseStatus>`, `<LeaseState>` and, while leased, `<LeaseDuration>`, as listings write them. */
export function leaseXml(lease: LeaseRecord | undefined, now: number): string {
  const state = leaseState(lease, now);
  const duration = state === 'leased' ? `<LeaseDuration>${lease!.expiresAt === undefined ? 'infinite' : 'fixed'}</LeaseDuration>` : '';
  return `<LeaseStatus>${isLocked(state) ? 'locked' : 'unlocked'}</LeaseStatus><LeaseState>${state}</LeaseState>${duration}`;
}

/** Lease ids are GUIDs in any of .NET's spellings (plain, hyphenated, in braces or parentheses); compared by value. */
const GUID = /^[{(]?([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})[)}]?$/i;

function leaseIdHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = header(headers, name);
  if (value === undefined) return undefined;
  const match = GUID.exec(value.trim());
  if (!match || (value.startsWith('{') !== value.endsWith('}')) || (value.startsWith('(') !== value.endsWith(')'))) {
    throw errors.invalidHeader(name, 'a lease id must be a GUID, such as 3f2504e0-4f89-11d3-9a0c-0305e82c3301.');
  }
  return match.slice(1).join('-').toLowerCase();
}

function requiredLeaseId(headers: IncomingHttpHeaders, name: string, action: string): string {
  const id = leaseIdHeader(headers, name);
  if (id === undefined) throw errors.missingHeader(name, `The lease action '${action}' needs it.`);
  return id;
}

function secondsHeader(headers: IncomingHttpHeaders, name: string, valid: (n: number) => boolean, rule: string): number | undefined {
  const value = header(headers, name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || !valid(n)) throw errors.invalidHeader(name, rule);
  return n;
}

const noun = (target: LeaseTarget) => (target === 'blob' ? 'blob' : 'container');
const Target = (target: LeaseTarget) => (target === 'blob' ? 'Blob' : 'Container');

export const leaseErrors = {
  alreadyPresent: () =>
    new StorageError(409, 'LeaseAlreadyPresent', 'There is already a lease present. Wait for it to expire, or break it (x-ms-lease-action: break) before acquiring a new one.'),
  mismatchWithLeaseOperation: (target: LeaseTarget) =>
    new StorageError(409, 'LeaseIdMismatchWithLeaseOperation', `The lease ID specified did not match the lease ID for the ${noun(target)}.`),
  notPresentWithLeaseOperation: (target: LeaseTarget) =>
    new StorageError(409, 'LeaseNotPresentWithLeaseOperation', `There is currently no lease on the ${noun(target)}. Acquire one first.`),
  brokenCannotBeRenewed: () =>
    new StorageError(409, 'LeaseIsBrokenAndCannotBeRenewed', 'The lease ID matched, but the lease has been broken explicitly and cannot be renewed. Acquire a new lease.'),
  breakingCannotBeAcquired: () =>
    new StorageError(409, 'LeaseIsBreakingAndCannotBeAcquired', 'The lease ID matched, but the lease is currently in breaking state and cannot be acquired until it is broken.'),
  breakingCannotBeChanged: () =>
    new StorageError(409, 'LeaseIsBreakingAndCannotBeChanged', 'The lease ID matched, but the lease is currently in breaking state and cannot be changed.'),
  idMissing: (target: LeaseTarget) =>
    new StorageError(412, 'LeaseIdMissing', `There is currently a lease on the ${noun(target)} and no lease ID was specified in the request. Send its id in x-ms-lease-id.`),
  mismatch: (target: LeaseTarget) =>
    new StorageError(412, `LeaseIdMismatchWith${Target(target)}Operation`, `The lease ID specified did not match the lease ID for the ${noun(target)}.`),
  notPresent: (target: LeaseTarget) =>
    new StorageError(412, `LeaseNotPresentWith${Target(target)}Operation`, `There is currently no lease on the ${noun(target)}; leave x-ms-lease-id out.`),
};

export interface LeaseOutcome {
  /** The lease to store; undefined once released. */
  lease: LeaseRecord | undefined;
  status: number;
  headers: Record<string, string>;
}

const ACTIONS = ['acquire', 'renew', 'change', 'release', 'break'];

/** One Lease Blob / Lease Container request applied to the current lease, at `now`. */
export function applyLeaseAction(headers: IncomingHttpHeaders, current: LeaseRecord | undefined, now: number, target: LeaseTarget): LeaseOutcome {
  const action = header(headers, 'x-ms-lease-action');
  if (action === undefined) throw errors.missingHeader('x-ms-lease-action', `Say what to do: ${ACTIONS.join(', ')}.`);
  const state = leaseState(current, now);
  switch (action.toLowerCase()) {
    case 'acquire': {
      const duration = secondsHeader(headers, 'x-ms-lease-duration', (n) => n === -1 || (n >= 15 && n <= 60), 'use -1 (infinite) or 15 to 60 seconds.');
      if (duration === undefined) throw errors.missingHeader('x-ms-lease-duration', 'Acquiring a lease needs its duration: -1 (infinite) or 15 to 60 seconds.');
      const proposed = leaseIdHeader(headers, 'x-ms-proposed-lease-id');
      if (state === 'breaking') throw proposed === current!.id ? leaseErrors.breakingCannotBeAcquired() : leaseErrors.alreadyPresent();
      if (state === 'leased' && proposed !== current!.id) throw leaseErrors.alreadyPresent();
      const lease = { id: proposed ?? randomUUID(), duration, expiresAt: duration === -1 ? undefined : now + duration * 1000 };
      return { lease, status: 201, headers: { 'x-ms-lease-id': lease.id } };
    }
    case 'renew': {
      const id = requiredLeaseId(headers, 'x-ms-lease-id', 'renew');
      if (state === 'available' || id !== current!.id) throw leaseErrors.mismatchWithLeaseOperation(target);
      if (state === 'breaking' || state === 'broken') throw leaseErrors.brokenCannotBeRenewed();
      const lease = { ...current!, expiresAt: current!.duration === -1 ? undefined : now + current!.duration * 1000 };
      return { lease, status: 200, headers: { 'x-ms-lease-id': lease.id } };
    }
    case 'change': {
      const id = requiredLeaseId(headers, 'x-ms-lease-id', 'change');
      const proposed = requiredLeaseId(headers, 'x-ms-proposed-lease-id', 'change');
      if (!isLocked(state)) throw leaseErrors.notPresentWithLeaseOperation(target);
      if (id !== current!.id && proposed !== current!.id) throw leaseErrors.mismatchWithLeaseOperation(target);
      if (state === 'breaking') throw leaseErrors.breakingCannotBeChanged();
      return { lease: { ...current!, id: proposed }, status: 200, headers: { 'x-ms-lease-id': proposed } };
    }
    case 'release': {
      const id = requiredLeaseId(headers, 'x-ms-lease-id', 'release');
      if (state === 'available' || id !== current!.id) throw leaseErrors.mismatchWithLeaseOperation(target);
      return { lease: undefined, status: 200, headers: {} };
    }
    case 'break': {
      const period = secondsHeader(headers, 'x-ms-lease-break-period', (n) => n >= 0 && n <= 60, 'use 0 to 60 seconds.');
      if (state === 'available') throw leaseErrors.notPresentWithLeaseOperation(target);
      const brokenAt = breakTime(current!, state, period, now);
      return { lease: { ...current!, brokenAt }, status: 202, headers: { 'x-ms-lease-time': String(Math.max(0, Math.ceil((brokenAt - now) / 1000))) } };
    }
    default:
      throw errors.invalidHeader('x-ms-lease-action', `use one of ${ACTIONS.join(', ')}.`);
  }
}

/**
 * When a break ends. A fixed lease breaks when it would have expired, or after
 * the break period if that is sooner; an infinite one at once unless a period
 * is given. A lease already breaking only ever breaks sooner; one already
 * expired or broken breaks now.
 */
function breakTime(lease: LeaseRecord, state: LeaseState, period: number | undefined, now: number): number {
  const periodEnd = period === undefined ? undefined : now + period * 1000;
  if (state === 'breaking') return Math.min(lease.brokenAt!, periodEnd ?? Infinity);
  if (state !== 'leased') return now;
  if (lease.expiresAt === undefined) return periodEnd ?? now;
  return Math.min(lease.expiresAt, periodEnd ?? Infinity);
}

/**
 * The lease a write leaves on its resource, or an error when the write may not
 * proceed: a locked resource takes writes only with its lease id; an id given
 * for a resource that is not locked is refused too. A write to a resource whose
 * lease expired or was broken ends that lease.
 */
export function leaseAfterWrite(lease: LeaseRecord | undefined, headers: IncomingHttpHeaders, now: number, target: LeaseTarget): LeaseRecord | undefined {
  const given = leaseIdHeader(headers, 'x-ms-lease-id');
  if (isLocked(leaseState(lease, now))) {
    if (given === undefined) throw leaseErrors.idMissing(target);
    if (given !== lease!.id) throw leaseErrors.mismatch(target);
    return lease;
  }
  if (given !== undefined) throw leaseErrors.notPresent(target);
  return undefined;
}

/** For operations where the lease id is optional (reads, container writes): one given must name the current lease. */
export function checkLeaseIdIfGiven(lease: LeaseRecord | undefined, headers: IncomingHttpHeaders, now: number, target: LeaseTarget): void {
  const given = leaseIdHeader(headers, 'x-ms-lease-id');
  if (given === undefined) return;
  if (!isLocked(leaseState(lease, now))) throw leaseErrors.notPresent(target);
  if (given !== lease!.id) throw leaseErrors.mismatch(target);
}
