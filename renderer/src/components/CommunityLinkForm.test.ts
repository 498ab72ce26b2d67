import { describe, it, expect, afterEach, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import type { ApiResult, Community } from '../../../main/contract/contract.ts';
import CommunityLinkForm from './CommunityLinkForm.svelte';
import { groupCommunities, shardOf } from '../lib/communities.ts';

const ID = '0x02a3d2fdb9ac335917bf9d46b38d7496c00bbfadbaf832e8aa61d13ac2b4452084';
const KEY = 'zQ3shYSHp7GoiXaauJMnDcjwU2yNjdzpXLosAWapPS4CFxc11';
const status = { communityId: ID, key: KEY, linkName: 'Doodles' };
/** What previewCommunity answers for Doodles' link. */
const derived: Community[] = [
  { name: 'Doodles', pubsubTopic: '/waku/2/rs/16/32', contentTopics: ['/waku/1/0x8f887122/rfc26', '/waku/1/0xdd22b83d/rfc26', '/waku/1/0xfcb2f421/rfc26'], status },
  { name: 'Doodles (shard 64)', pubsubTopic: '/waku/2/rs/16/64', contentTopics: ['/waku/1/0xfcb2f421/rfc26'], status },
];

describe('<CommunityLinkForm>', () => {
  afterEach(() => cleanup());

  it('shows what a pasted link stands for, read-only: id, the name it claims, shards and topics', async () => {
    const preview = vi.fn(async (): Promise<ApiResult<Community[]>> => ({ ok: true, value: derived }));
    render(CommunityLinkForm, { preview, idPrefix: 't' });
    const input = screen.getByLabelText('Community link');
    await fireEvent.input(input, { target: { value: `  https://status.app/c#${KEY} ` } });
    await fireEvent.change(input);
    expect((await screen.findByTestId('preview-id')).textContent).toBe(ID);
    expect(preview).toHaveBeenLastCalledWith(`https://status.app/c#${KEY}`);
    expect(screen.getByTestId('preview-link-name').textContent).toBe('Doodles');
    const rows = screen.getAllByTestId('preview-entry');
    expect(rows.map((r) => [r.dataset.topic, r.firstElementChild!.textContent])).toEqual([['/waku/2/rs/16/32', '32'], ['/waku/2/rs/16/64', '64']]);
    expect(rows[0]!.querySelectorAll('td:last-child .mono').length).toBe(3);
    expect(rows[0]!.querySelector('input, textarea')).toBeNull();
    expect((screen.getByLabelText('Name to show') as HTMLInputElement).placeholder).toBe('Doodles');
  });

  it('says what is wrong with a link that is not a community, and shows nothing derived', async () => {
    const preview = vi.fn(async (): Promise<ApiResult<Community[]>> => ({ ok: false, error: { code: 'invalid', field: 'ref', message: 'ref: a link to a Status user, not to a community' } }));
    render(CommunityLinkForm, { preview, idPrefix: 't' });
    const input = screen.getByLabelText('Community link');
    await fireEvent.input(input, { target: { value: 'https://status.app/u#zQ3sh' } });
    await fireEvent.change(input);
    expect((await screen.findByRole('alert')).textContent).toMatch(/a Status user/);
    expect(screen.queryByTestId('community-preview')).toBeNull();
    expect(input.getAttribute('aria-invalid')).toBe('true');
  });
});

describe('kept communities as a person thinks of them', () => {
  it('groups a Status community’s entries into one, and leaves custom ones alone', () => {
    const custom: Community = { name: 'Fans', pubsubTopic: '/waku/2/rs/16/32', contentTopics: [] };
    const groups = groupCommunities([derived[0]!, custom, derived[1]!]);
    expect(groups.map((g) => [g.name, g.entries.map((e) => e.name)])).toEqual([['Doodles', ['Doodles', 'Doodles (shard 64)']], ['Fans', ['Fans']]]);
    expect(shardOf('/waku/2/rs/16/64')).toBe('64');
    expect(shardOf('/my/app/topic')).toBe('/my/app/topic');
  });
});
