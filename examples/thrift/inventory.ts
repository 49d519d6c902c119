// Generated-style Thrift code for this IDL, written by hand (no codegen binary needed):
//
//   struct StockLevel { 1: string sku, 2: i32 available, 3: string servedBy }
//   exception OutOfCatalog { 1: string sku }
//   service Inventory {
//     // deadlineMs: what is left of the caller's deadline (plain Thrift has no headers to carry it)
//     StockLevel getStock(1: string sku, 2: i32 deadlineMs) throws (1: OutOfCatalog missing)
//   }
//
// It follows the shape of `thrift --gen js:node` output: argument and result
// structs with read/write, a Client with send_/recv_ methods and seqids, and a
// Processor with process_ methods.
import thrift from 'thrift';
import type { TProtocol, TTransport } from 'thrift';

const { Thrift } = thrift;
type ProtocolClass = new (transport: TTransport) => TProtocol;

export interface StockLevel {
  sku: string;
  available: number;
  servedBy: string;
}

/** The IDL's exception: the sku is not in the catalog. */
export class OutOfCatalog extends Thrift.TException {
  sku: string;

  constructor(sku = '') {
    super(`sku ${sku} is not in the catalog`);
    this.name = 'OutOfCatalog';
    this.sku = sku;
  }

  read(input: TProtocol): void {
    input.readStructBegin();
    for (;;) {
      const { ftype, fid } = input.readFieldBegin();
      if (ftype === Thrift.Type.STOP) break;
      if (fid === 1 && ftype === Thrift.Type.STRING) this.sku = input.readString();
      else input.skip(ftype);
      input.readFieldEnd();
    }
    input.readStructEnd();
    this.message = `sku ${this.sku} is not in the catalog`;
  }

  write(output: TProtocol): void {
    output.writeStructBegin('OutOfCatalog');
    output.writeFieldBegin('sku', Thrift.Type.STRING, 1);
    output.writeString(this.sku);
    output.writeFieldEnd();
    output.writeFieldStop();
    output.writeStructEnd();
  }
}

function readStockLevel(input: TProtocol): StockLevel {
  const value: StockLevel = { sku: '', available: 0, servedBy: '' };
  input.readStructBegin();
  for (;;) {
    const { ftype, fid } = input.readFieldBegin();
    if (ftype === Thrift.Type.STOP) break;
    if (fid === 1 && ftype === Thrift.Type.STRING) value.sku = input.readString();
    else if (fid === 2 && ftype === Thrift.Type.I32) value.available = input.readI32();
    else if (fid === 3 && ftype === Thrift.Type.STRING) value.servedBy = input.readString();
    else input.skip(ftype);
    input.readFieldEnd();
  }
  input.readStructEnd();
  return value;
}

function writeStockLevel(output: TProtocol, value: StockLevel): void {
  output.writeStructBegin('StockLevel');
  output.writeFieldBegin('sku', Thrift.Type.STRING, 1);
  output.writeString(value.sku);
  output.writeFieldEnd();
  output.writeFieldBegin('available', Thrift.Type.I32, 2);
  output.writeI32(value.available);
  output.writeFieldEnd();
  output.writeFieldBegin('servedBy', Thrift.Type.STRING, 3);
  output.writeString(value.servedBy);
  output.writeFieldEnd();
  output.writeFieldStop();
  output.writeStructEnd();
}

class GetStockArgs {
  sku = '';
  deadlineMs = 0;

  read(input: TProtocol): void {
    input.readStructBegin();
    for (;;) {
      const { ftype, fid } = input.readFieldBegin();
      if (ftype === Thrift.Type.STOP) break;
      if (fid === 1 && ftype === Thrift.Type.STRING) this.sku = input.readString();
      else if (fid === 2 && ftype === Thrift.Type.I32) this.deadlineMs = input.readI32();
      else input.skip(ftype);
      input.readFieldEnd();
    }
    input.readStructEnd();
  }

  write(output: TProtocol): void {
    output.writeStructBegin('Inventory_getStock_args');
    output.writeFieldBegin('sku', Thrift.Type.STRING, 1);
    output.writeString(this.sku);
    output.writeFieldEnd();
    output.writeFieldBegin('deadlineMs', Thrift.Type.I32, 2);
    output.writeI32(this.deadlineMs);
    output.writeFieldEnd();
    output.writeFieldStop();
    output.writeStructEnd();
  }
}

class GetStockResult {
  success: StockLevel | undefined = undefined;
  missing: OutOfCatalog | undefined = undefined;

  read(input: TProtocol): void {
    input.readStructBegin();
    for (;;) {
      const { ftype, fid } = input.readFieldBegin();
      if (ftype === Thrift.Type.STOP) break;
      if (fid === 0 && ftype === Thrift.Type.STRUCT) this.success = readStockLevel(input);
      else if (fid === 1 && ftype === Thrift.Type.STRUCT) {
        this.missing = new OutOfCatalog();
        this.missing.read(input);
      } else input.skip(ftype);
      input.readFieldEnd();
    }
    input.readStructEnd();
  }

  write(output: TProtocol): void {
    output.writeStructBegin('Inventory_getStock_result');
    if (this.success !== undefined) {
      output.writeFieldBegin('success', Thrift.Type.STRUCT, 0);
      writeStockLevel(output, this.success);
      output.writeFieldEnd();
    }
    if (this.missing !== undefined) {
      output.writeFieldBegin('missing', Thrift.Type.STRUCT, 1);
      this.missing.write(output);
      output.writeFieldEnd();
    }
    output.writeFieldStop();
    output.writeStructEnd();
  }
}

type Callback<T> = (error: unknown, result?: T) => void;

/** The client half: what `thrift.createClient(InventoryClient, connection)` builds. */
export class InventoryClient {
  readonly output: TTransport;
  readonly pClass: ProtocolClass;
  /** Pending calls by seqid; thrift's Connection resolves them as replies arrive. */
  readonly _reqs: Record<number, Callback<unknown>> = {};
  _seqid = 0;

  constructor(output: TTransport, pClass: ProtocolClass) {
    this.output = output;
    this.pClass = pClass;
  }

  seqid(): number {
    return this._seqid;
  }

  new_seqid(): number {
    return (this._seqid += 1);
  }

  /** Calls getStock; `register` receives the seqid so a caller that gives up can forget the reply. */
  getStock(sku: string, deadlineMs: number, register?: (seqid: number) => void): Promise<StockLevel> {
    this._seqid = this.new_seqid();
    const seqid = this._seqid;
    register?.(seqid);
    return new Promise<StockLevel>((resolve, reject) => {
      this._reqs[seqid] = (error, result) => (error === null || error === undefined ? resolve(result as StockLevel) : reject(error));
      this.send_getStock(sku, deadlineMs, seqid);
    });
  }

  send_getStock(sku: string, deadlineMs: number, seqid: number): void {
    const output = new this.pClass(this.output);
    const args = new GetStockArgs();
    args.sku = sku;
    args.deadlineMs = deadlineMs;
    try {
      output.writeMessageBegin('getStock', Thrift.MessageType.CALL, seqid);
      args.write(output);
      output.writeMessageEnd();
      this.output.flush();
    } catch (error) {
      delete this._reqs[seqid];
      throw error;
    }
  }

  recv_getStock(input: TProtocol, mtype: number, rseqid: number): void {
    const callback = this._reqs[rseqid] ?? ((): void => {});
    delete this._reqs[rseqid];
    if (mtype === Thrift.MessageType.EXCEPTION) {
      const error = new Thrift.TApplicationException();
      error.read(input);
      input.readMessageEnd();
      callback(error);
      return;
    }
    const result = new GetStockResult();
    result.read(input);
    input.readMessageEnd();
    if (result.missing !== undefined) callback(result.missing);
    else if (result.success !== undefined) callback(null, result.success);
    else callback(new Thrift.TApplicationException(Thrift.TApplicationExceptionType.MISSING_RESULT, 'getStock failed: unknown result'));
  }
}

/** What a server implements. */
export interface InventoryHandler {
  getStock(sku: string, deadlineMs: number): Promise<StockLevel>;
}

/** The server half: what `thrift.createServer(InventoryProcessor, handler)` dispatches through. */
export class InventoryProcessor {
  readonly #handler: InventoryHandler;

  constructor(handler: InventoryHandler) {
    this.#handler = handler;
  }

  process(input: TProtocol, output: TProtocol): void {
    const { fname, rseqid } = input.readMessageBegin();
    if (fname === 'getStock') {
      this.process_getStock(rseqid, input, output);
      return;
    }
    input.skip(Thrift.Type.STRUCT);
    input.readMessageEnd();
    const error = new Thrift.TApplicationException(Thrift.TApplicationExceptionType.UNKNOWN_METHOD, `Unknown function ${fname}`);
    output.writeMessageBegin(fname, Thrift.MessageType.EXCEPTION, rseqid);
    error.write(output);
    output.writeMessageEnd();
    output.flush();
  }

  process_getStock(seqid: number, input: TProtocol, output: TProtocol): void {
    const args = new GetStockArgs();
    args.read(input);
    input.readMessageEnd();
    this.#handler.getStock(args.sku, args.deadlineMs).then(
      (success) => {
        const result = new GetStockResult();
        result.success = success;
        output.writeMessageBegin('getStock', Thrift.MessageType.REPLY, seqid);
        result.write(output);
        output.writeMessageEnd();
        output.flush();
      },
      (error: unknown) => {
        if (error instanceof OutOfCatalog) {
          const result = new GetStockResult();
          result.missing = error;
          output.writeMessageBegin('getStock', Thrift.MessageType.REPLY, seqid);
          result.write(output);
        } else {
          const failure = new Thrift.TApplicationException(Thrift.TApplicationExceptionType.INTERNAL_ERROR, String(error));
          output.writeMessageBegin('getStock', Thrift.MessageType.EXCEPTION, seqid);
          failure.write(output);
        }
        output.writeMessageEnd();
        output.flush();
      },
    );
  }
}
