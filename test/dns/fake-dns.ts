import dgram from 'node:dgram';

/** Record types the fake server can answer with. */
const TYPES = { A: 1, AAAA: 28, SRV: 33 } as const;
type RecordType = keyof typeof TYPES;

/** One answer record: an address for A/AAAA, the SRV fields for SRV. */
export type FakeRecord =
  | { readonly type: 'A' | 'AAAA'; readonly ttl: number; readonly data: string }
  | { readonly type: 'SRV'; readonly ttl: number; readonly data: { priority: number; weight: number; port: number; target: string } };

/** What the server does with one query: answer (rcode 0 by default), fail with an rcode (2 SERVFAIL, 4 NOTIMP, 5 REFUSED), or drop it. */
export interface FakeAnswer {
  readonly rcode?: number;
  readonly answers?: readonly FakeRecord[];
  readonly drop?: boolean;
}

export interface FakeDnsServer {
  /** `127.0.0.1:<port>`, for the `servers` option. */
  readonly address: string;
  /** Every query received: name and type (`A`, `AAAA`, `SRV`, or the type number). */
  readonly queries: { name: string; type: string }[];
  close(): Promise<void>;
}

function encodeName(name: string): Buffer {
  const labels = name.replace(/\.$/, '').split('.').filter((label) => label !== '');
  return Buffer.concat([...labels.map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)])), Buffer.from([0])]);
}

function encodeAddress(record: { readonly type: 'A' | 'AAAA'; readonly data: string }): Buffer {
  if (record.type === 'A') return Buffer.from(record.data.split('.').map(Number));
  {
    const [left = '', right = ''] = record.data.split('::');
    const head = left === '' ? [] : left.split(':');
    const tail = right === '' ? [] : right.split(':');
    const groups = record.data.includes('::') ? [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
    const bytes = Buffer.alloc(16);
    groups.forEach((group, i) => bytes.writeUInt16BE(parseInt(group, 16), i * 2));
    return bytes;
  }
}

function encodeData(record: FakeRecord): Buffer {
  if (record.type !== 'SRV') return encodeAddress(record);
  const fields = Buffer.alloc(6);
  fields.writeUInt16BE(record.data.priority, 0);
  fields.writeUInt16BE(record.data.weight, 2);
  fields.writeUInt16BE(record.data.port, 4);
  return Buffer.concat([fields, encodeName(record.data.target)]);
}

/**
 * A minimal UDP DNS server the test controls, for registries that misbehave
 * in ways a real named will not (SERVFAIL or silence for AAAA only).
 * `answer(name, type)` decides each reply.
 */
export async function fakeDns(answer: (name: string, type: string) => FakeAnswer): Promise<FakeDnsServer> {
  const queries: { name: string; type: string }[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (message, peer) => {
    let offset = 12;
    const labels: string[] = [];
    while ((message[offset] ?? 0) !== 0) {
      const length = message[offset] as number;
      labels.push(message.subarray(offset + 1, offset + 1 + length).toString());
      offset += length + 1;
    }
    offset += 1;
    const typeNumber = message.readUInt16BE(offset);
    const questionEnd = offset + 4;
    const name = labels.join('.');
    const type = (Object.keys(TYPES) as RecordType[]).find((key) => TYPES[key] === typeNumber) ?? String(typeNumber);
    queries.push({ name, type });
    const reply = answer(name, type);
    if (reply.drop === true) return;
    const records = (reply.answers ?? []).map((record) => {
      const data = encodeData(record);
      const header = Buffer.alloc(10);
      header.writeUInt16BE(TYPES[record.type], 0);
      header.writeUInt16BE(1, 2); // class IN
      header.writeUInt32BE(record.ttl >>> 0, 4);
      header.writeUInt16BE(data.length, 8);
      return Buffer.concat([encodeName(name), header, data]);
    });
    const header = Buffer.alloc(12);
    header.writeUInt16BE(message.readUInt16BE(0), 0); // the query's id
    header.writeUInt16BE(0x8180 | (reply.rcode ?? 0), 2); // a response, recursion desired and available
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    socket.send(Buffer.concat([header, message.subarray(12, questionEnd), ...records]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${socket.address().port}`,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
