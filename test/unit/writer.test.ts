/**
 * The archive writer, the one door into the archive: relay batches per
 * event-loop turn, direct stores in one transaction with what goes alongside,
 * the counters, and a failing disk said once and cleared once.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { Archive } from '../../main/core/archive/archive.ts';
import { ArchiveWriter } from '../../main/core/archive/writer.ts';
import { series } from '../helpers/messages.ts';

const T0 = 1_760_000_000_000_000_000n;

describe('archive writer', () => {
  let archive: Archive;
  let inserts: number[];
  beforeEach(() => {
    archive = Archive.open(':memory:');
    inserts = [];
    const insert = archive.insert.bind(archive);
    archive.insert = (messages) => {
      inserts.push(messages.length);
      return insert(messages);
    };
  });
  afterEach(() => archive.close());

  it('writes a burst of relayed messages in one insert per event-loop turn', async () => {
    const writer = new ArchiveWriter(archive);
    for (const m of series(30, T0)) writer.push(m);
    assert.equal(archive.stats().messages, 0, 'nothing written before the turn ends');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(inserts, [30]);
    assert.equal(archive.stats().messages, 30);
  });

  it('counts new messages and duplicates, whichever way they come in', () => {
    const writer = new ArchiveWriter(archive);
    const msgs = series(10, T0);
    assert.equal(writer.store(msgs.slice(0, 6)), 6);
    for (const m of msgs) writer.push(m);
    assert.equal(writer.flush(), 4);
    const c = writer.counters();
    assert.deepEqual([c.stored, c.duplicates, c.unwritable, c.lastMinute], [10, 6, 0, 10]);
  });

  it('says a failing disk once, counts what it refused, and says when writing works again', () => {
    const said: string[] = [];
    const writer = new ArchiveWriter(archive, { onTrouble: (level, message) => said.push(`${level}: ${message}`) });
    const db = archive.connection;
    writer.store(series(20, T0));
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const big = (i: number) => series(50, T0 + BigInt(i) * 10_000_000_000n).map((m) => ({ ...m, message: new Uint8Array(4000).fill(i) }));
    assert.equal(writer.store(big(1)), null);
    assert.equal(writer.store(big(2)), null);
    assert.match(writer.error ?? '', /full/i);
    assert.equal(writer.counters().unwritable, 100);
    db.pragma('max_page_count = 1073741823');
    assert.equal(writer.store(big(3)), 50);
    assert.equal(writer.error, null);
    assert.equal(said.length, 2, said.join('\n'));
    assert.match(said[0] ?? '', /^error: the archive cannot be written/);
    assert.match(said[1] ?? '', /^warning: the archive can be written again/);
  });
});
