import { describe, it, expect, afterEach, vi } from 'vitest';
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import type { ApiResult, CommunityHistory, CommunityStorageInput } from '../../../main/contract/contract.ts';
import { formatBytes, formatCount, formatPercent, GAP_REASON } from '../lib/format.ts';
import CommunityHistoryCard from './CommunityHistoryCard.svelte';

const DAY = 86_400_000;
const start = Date.UTC(2026, 10, 1);
/** What the node reports for one kept community (history.communities), as the other half of the issue fills it. */
const doodles: CommunityHistory = {
  name: 'Doodles',
  pubsubTopic: '/waku/2/rs/16/32',
  contentTopics: ['/waku/1/0x8f887122/rfc26', '/waku/1/0xdd22b83d/rfc26', '/waku/1/0xfcb2f421/rfc26'],
  keptSinceMs: start + 2 * DAY,
  windowStartMs: start,
  windowEndMs: start + 30 * DAY,
  coveredShare: 0.875,
  verifiedShare: 0.6234,
  unattestedShare: 0.2516,
  online: [],
  filled: [],
  unverified: [],
  gaps: [
    { startMs: start + 3 * DAY, endMs: start + 4 * DAY, reason: 'not-held', detail: null },
    { startMs: start + 10 * DAY, endMs: start + 10 * DAY + 3_600_000, reason: 'peer-failed', detail: 'B: status 503' },
  ],
  segments: [
    { kind: 'verified', startMs: start, endMs: start + 3 * DAY, peers: ['16Uiu2HAmAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAApeerA111'], reason: null, detail: null },
    { kind: 'missing', startMs: start + 3 * DAY, endMs: start + 4 * DAY, peers: [], reason: 'not-held', detail: null },
    { kind: 'online', startMs: start + 4 * DAY, endMs: start + 30 * DAY, peers: [], reason: null, detail: null },
  ],
  storage: { messages: 12_345, bytes: 987_654_321, quotaBytes: 1_000_000_000, retentionMs: 30 * DAY, oldestMs: start + 4 * DAY, limitedByQuota: true },
  fill: { running: true, windowsDone: 7, windowsTotal: 30, messages: 420 },
};

describe('<CommunityHistoryCard>', () => {
  afterEach(() => cleanup());
  const saved = (): ((input: CommunityStorageInput) => Promise<ApiResult<null>>) => vi.fn(async () => ({ ok: true, value: null }) as const);

  it('shows the community’s own completeness, gaps with their reasons, storage against its quota, and its fill', () => {
    render(CommunityHistoryCard, { h: doodles, save: saved() });
    const card = screen.getByRole('region', { name: 'Doodles: history and storage' });
    expect(within(card).getByTestId('community-verified').textContent).toBe(formatPercent(0.6234));
    expect(within(card).getByTestId('community-covered').textContent).toBe(formatPercent(0.875));
    expect(within(card).getByTestId('community-missing').textContent).toBe(formatPercent(0.125));
    const rows = within(card).getAllByTestId('gap-row');
    expect(rows.map((r) => r.lastElementChild!.textContent)).toEqual([`${GAP_REASON['peer-failed'].short}B: status 503`, GAP_REASON['not-held'].short]);
    expect(within(card).getByTestId('community-messages').textContent).toBe(formatCount(12_345));
    expect(within(card).getByTestId('community-bytes').textContent).toBe(`${formatBytes(987_654_321)} of ${formatBytes(1e9)}`);
    expect(within(card).getByTestId('community-quota-limited')).toBeTruthy();
    const progress = within(card).getByRole('progressbar', { name: 'Windows of Doodles filled' }) as HTMLProgressElement;
    expect([progress.value, progress.max]).toEqual([7, 30]);
    expect(within(card).getByTestId('community-fill').textContent).toMatch(/7 of 30 windows · 420 new messages/);
    expect(within(card).getByRole('group', { name: /^History of Doodles/ })).toBeTruthy();
  });

  it('says when the archive’s quota is shared and nothing is limited or filling', () => {
    render(CommunityHistoryCard, {
      h: { ...doodles, gaps: [], storage: { ...doodles.storage, quotaBytes: null, limitedByQuota: false }, fill: { running: false, windowsDone: 0, windowsTotal: 0, messages: 0 } },
      save: saved(),
    });
    expect(screen.getByTestId('community-bytes').textContent).toBe(`${formatBytes(987_654_321)} of the archive’s quota`);
    expect(screen.queryByTestId('community-quota-limited')).toBeNull();
    expect(screen.queryByTestId('community-fill')).toBeNull();
    expect(screen.getByText('No open gaps.')).toBeTruthy();
  });

  it('saves its quota and retention through setCommunityStorage; an emptied quota is the archive’s; a refusal is shown', async () => {
    const save = saved();
    render(CommunityHistoryCard, { h: doodles, save });
    const quota = screen.getByLabelText('Quota for Doodles (GB)') as HTMLInputElement;
    const retention = screen.getByLabelText('Retention for Doodles (days)') as HTMLInputElement;
    expect([quota.value, retention.value]).toEqual(['1', '30']);
    await fireEvent.input(quota, { target: { value: '2.5' } });
    await fireEvent.input(retention, { target: { value: '7' } });
    await fireEvent.submit(screen.getByRole('form', { name: 'Storage for Doodles' }));
    expect(save).toHaveBeenCalledWith({ name: 'Doodles', quotaBytes: 2_500_000_000, retentionMs: 7 * DAY });
    // Once saved the form shows the node's values again (this fixture still says 30 days).
    await fireEvent.input(quota, { target: { value: '' } });
    await fireEvent.submit(screen.getByRole('form', { name: 'Storage for Doodles' }));
    expect(save).toHaveBeenLastCalledWith({ name: 'Doodles', quotaBytes: null, retentionMs: 30 * DAY });

    cleanup();
    const refuse = vi.fn(async () => ({ ok: false, error: { code: 'invalid', field: 'quotaBytes', message: 'quotaBytes: must be null (the archive’s quota) or at least 1 MiB' } }) as const);
    render(CommunityHistoryCard, { h: doodles, save: refuse });
    await fireEvent.submit(screen.getByRole('form', { name: 'Storage for Doodles' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/at least 1 MiB/);
  });
});
