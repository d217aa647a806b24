import { splitOrganizations } from '../core/organizations.js';
import { Secret } from '../core/secret.js';
import type { CandidateRow } from '../core/types.js';
import type { CsvRecord } from './index.js';

/** What an import hands the core for each CSV record: the cells it knows, a password kept secret. */
export function candidate(record: CsvRecord): CandidateRow {
  // Without a password or organizations a record is a candidate as it is (most rows): no copy.
  if (record.password === undefined && record.organization === undefined) return record as Omit<CsvRecord, 'password' | 'organization'>;
  const row: CandidateRow = { line: record.line, email: record.email, fullName: record.fullName };
  if (record.password !== undefined && record.password !== '') row.password = new Secret(record.password);
  if (record.language !== undefined) row.language = record.language;
  if (record.username !== undefined) row.username = record.username;
  if (record.organization !== undefined) row.organizations = splitOrganizations(record.organization);
  if (record.error !== undefined) row.error = record.error;
  return row;
}

/** The candidates of a CSV file's records, a batch at a time. */
export async function* candidates(batches: AsyncIterable<readonly CsvRecord[]>): AsyncIterable<CandidateRow[]> {
  for await (const batch of batches) yield batch.map(candidate);
}
