import { describe, it, expect, afterEach } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import type { TopicHistory } from '../../../main/contract/contract.ts';
import Timeline from './Timeline.svelte';

const DAY = 86_400_000;
const start = Date.UTC(2026, 10, 1);
const history: TopicHistory = {
  pubsubTopic: '/waku/2/rs/16/256',
  windowStartMs: start,
  windowEndMs: start + 30 * DAY,
  coveredShare: 0.9,
  verifiedShare: 0.6,
  unattestedShare: 0.3,
  online: [],
  filled: [],
  unverified: [],
  gaps: [],
  segments: [
    { kind: 'verified', startMs: start, endMs: start + 18 * DAY, peers: ['16Uiu2HAmAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAApeerA111'], reason: null, detail: null },
    { kind: 'unverified', startMs: start + 18 * DAY, endMs: start + 27 * DAY, peers: ['16Uiu2HAmBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBpeerB222'], reason: null, detail: null },
    { kind: 'missing', startMs: start + 27 * DAY, endMs: start + 27 * DAY + 60_000, peers: [], reason: 'peer-failed', detail: 'B: status 503' },
    { kind: 'online', startMs: start + 27 * DAY + 60_000, endMs: start + 30 * DAY, peers: [], reason: null, detail: null },
  ],
};

describe('<Timeline>', () => {
  afterEach(() => cleanup());

  it('draws one focusable stretch per segment, placed by its share of the window', () => {
    render(Timeline, { history, label: 'Test community' });
    const group = screen.getByRole('group', { name: /History of Test community/ });
    const stretches = group.querySelectorAll<HTMLButtonElement>('button');
    expect([...stretches].map((b) => b.dataset.kind)).toEqual(['verified', 'unverified', 'missing', 'online']);
    expect(stretches[0]!.style.left).toBe('0%');
    expect(stretches[0]!.style.width).toBe('60%');
    expect(parseFloat(stretches[2]!.style.width)).toBeGreaterThanOrEqual(0.4);
  });

  it('tells the exact times and the sources of a stretch on focus', async () => {
    render(Timeline, { history, label: 'Test community' });
    const gap = screen.getByRole('button', { name: /^Missing:/ });
    expect(gap.getAttribute('aria-label')).toMatch(/1 min\)\. The store peers asked failed to answer it completely\. B: status 503/);
    await fireEvent.focus(gap);
    expect(screen.getByText(/The store peers asked failed/, { selector: 'p' })).toBeTruthy();
    const unverified = screen.getByRole('button', { name: /^Held, not verified:/ });
    await fireEvent.focus(unverified);
    expect(document.querySelector('.detail')!.textContent).toMatch(/Answered completely by …peerB222/);
  });
});
