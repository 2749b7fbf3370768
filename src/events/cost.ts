/** Leanplum processes an imported file in batches of this many actions (LEANPLUM-API.md). */
export const LEANPLUM_BATCH = 50;

/**
 * Billable user lookups of a file as Leanplum processes it (LEANPLUM-API.md: the file is split
 * into batches of 50 actions and each unique user looked up in a batch is billable): rows in
 * consecutive batches of 50, each batch costing its number of distinct users. Each part is its
 * own import job, so a batch never spans two parts. Feed rows in file order, `endPart()` after
 * each part.
 */
export class BillableLookups {
  /** over the parts ended so far */
  total = 0;
  readonly byPart: number[] = [];
  private readonly users: string[] = [];
  private rowsInBatch = 0;
  private partTotal = 0;

  /** `n` consecutive rows of one user. */
  rows(userId: string, n = 1): void {
    while (n > 0) {
      const k = Math.min(n, LEANPLUM_BATCH - this.rowsInBatch);
      if (!this.users.includes(userId)) this.users.push(userId);
      this.rowsInBatch += k;
      n -= k;
      if (this.rowsInBatch === LEANPLUM_BATCH) this.closeBatch();
    }
  }

  private closeBatch(): void {
    this.partTotal += this.users.length;
    this.users.length = 0;
    this.rowsInBatch = 0;
  }

  endPart(): void {
    if (this.rowsInBatch > 0) this.closeBatch();
    this.byPart.push(this.partTotal);
    this.total += this.partTotal;
    this.partTotal = 0;
  }
}

/**
 * The lookups the same rows would cost written in the order given, split into parts the way the
 * clean CSV writer splits a file in input order: a row that would take a part past `maxBytes`
 * starts the next one (unless the part is still empty).
 */
export class LookupsInOrder {
  readonly lookups = new BillableLookups();
  private partBytes: number;
  private partRows = 0;

  constructor(
    private readonly headerBytes: number,
    private readonly maxBytes: number,
  ) {
    this.partBytes = headerBytes;
  }

  row(userId: string, bytes: number): void {
    if (this.partBytes + bytes > this.maxBytes && this.partRows > 0) {
      this.lookups.endPart();
      this.partBytes = this.headerBytes;
      this.partRows = 0;
    }
    this.partBytes += bytes;
    this.partRows++;
    this.lookups.rows(userId);
  }

  end(): BillableLookups {
    this.lookups.endPart();
    return this.lookups;
  }
}
