import { Readable } from "node:stream";
import { stringify } from "csv-stringify";
import type { ExportRow } from "../../usecases/ports.js";

const COLUMNS: Array<[keyof ExportRow, string]> = [
  ["questionIndex", "question_index"],
  ["type", "type"],
  ["question", "question"],
  ["nickname", "nickname"],
  ["answer", "answer"],
  ["status", "status"],
  ["answeredAt", "answered_at"],
];

// A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such text gets a leading
// apostrophe, which spreadsheets hide and treat as "this is text".
const FORMULA_START = /^[=+\-@\t\r]/;
const asText = (value: string) => (FORMULA_START.test(value) ? `'${value}` : value);

async function* safe(rows: AsyncIterable<ExportRow>): AsyncGenerator<ExportRow> {
  for await (const r of rows)
    yield { ...r, question: asText(r.question), nickname: asText(r.nickname), answer: asText(r.answer) };
}

/**
 * RFC 4180 CSV (csv-stringify: quoting, embedded quotes and line breaks done by a maintained library), UTF-8
 * with a byte-order mark so spreadsheets open accents and emoji correctly. Rows are pulled from the source as
 * the client reads, so memory stays flat however many answers the poll has.
 */
export function csvOf(rows: AsyncIterable<ExportRow>): Readable {
  const csv = stringify({
    bom: true,
    header: true,
    record_delimiter: "windows",
    columns: COLUMNS.map(([key, header]) => ({ key, header })),
  });
  const source = Readable.from(safe(rows));
  // Headers are sent by now: a failure mid-way can only cut the download short, never hang it.
  source.on("error", (err) => csv.destroy(err));
  return source.pipe(csv);
}
