// The gzip inflater for runtimes without `DecompressionStream` (the
// `edge-runtime` VM, older engines): RFC 1951 decoded bit by bit, after
// zlib's puff.c. It is a chunk of its own that only those runtimes load; a
// browser inflates the wasm with `DecompressionStream`.

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DISTANCE_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DISTANCE_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** The bytes a gzip member inflates to. */
export function gunzip(gzip) {
  if (gzip[0] !== 0x1f || gzip[1] !== 0x8b || gzip[2] !== 8) throw new Error("inflate: not a gzip stream");
  const flags = gzip[3];
  let at = 10;
  if (flags & 4) at += 2 + (gzip[at] | (gzip[at + 1] << 8));
  if (flags & 8) while (gzip[at++]);
  if (flags & 16) while (gzip[at++]);
  if (flags & 2) at += 2;
  const end = gzip.length;
  const size = (gzip[end - 4] | (gzip[end - 3] << 8) | (gzip[end - 2] << 16) | (gzip[end - 1] << 24)) >>> 0;
  return inflate(gzip.subarray(at, end - 8), size);
}

/** The canonical Huffman code of `lengths`: how many codes of each length, and the symbols in code order. */
function huffman(lengths) {
  const counts = new Uint16Array(16);
  for (const length of lengths) counts[length] += 1;
  counts[0] = 0;
  const offsets = new Uint16Array(16);
  for (let length = 1; length < 16; length += 1) offsets[length] = offsets[length - 1] + counts[length - 1];
  const symbols = new Uint16Array(lengths.length);
  lengths.forEach((length, symbol) => {
    if (length) symbols[offsets[length]++] = symbol;
  });
  return { counts, symbols };
}

const FIXED_LENGTHS = huffman(Array.from({ length: 288 }, (_, s) => (s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8)));
const FIXED_DISTANCES = huffman(new Array(30).fill(5));

/** Raw DEFLATE data inflated into `size` bytes. */
function inflate(input, size) {
  const out = new Uint8Array(size);
  let bit = 0;
  let written = 0;
  const bits = (count) => {
    let value = 0;
    for (let i = 0; i < count; i += 1, bit += 1) value |= ((input[bit >> 3] >> (bit & 7)) & 1) << i;
    return value;
  };
  const decode = ({ counts, symbols }) => {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let length = 1; length < 16; length += 1) {
      code |= bits(1);
      const count = counts[length];
      if (code - count < first) return symbols[index + code - first];
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new Error("inflate: an invalid Huffman code");
  };
  const dynamicCodes = () => {
    const literals = bits(5) + 257;
    const distances = bits(5) + 1;
    const codeLengths = new Uint8Array(19);
    for (let i = 0, n = bits(4) + 4; i < n; i += 1) codeLengths[CODE_LENGTH_ORDER[i]] = bits(3);
    const lengthCode = huffman(codeLengths);
    const lengths = new Uint8Array(literals + distances);
    for (let i = 0; i < lengths.length; ) {
      const symbol = decode(lengthCode);
      if (symbol < 16) {
        lengths[i++] = symbol;
        continue;
      }
      const repeat = symbol === 16 ? 3 + bits(2) : symbol === 17 ? 3 + bits(3) : 11 + bits(7);
      lengths.fill(symbol === 16 ? lengths[i - 1] : 0, i, i + repeat);
      i += repeat;
    }
    return [huffman(lengths.subarray(0, literals)), huffman(lengths.subarray(literals))];
  };

  let last;
  do {
    last = bits(1);
    const type = bits(2);
    if (type === 0) {
      const at = (bit + 7) >> 3;
      const length = input[at] | (input[at + 1] << 8);
      out.set(input.subarray(at + 4, at + 4 + length), written);
      written += length;
      bit = (at + 4 + length) * 8;
      continue;
    }
    if (type === 3) throw new Error("inflate: an invalid block type");
    const [lengthCode, distanceCode] = type === 1 ? [FIXED_LENGTHS, FIXED_DISTANCES] : dynamicCodes();
    for (let symbol = decode(lengthCode); symbol !== 256; symbol = decode(lengthCode)) {
      if (symbol < 256) {
        out[written++] = symbol;
        continue;
      }
      const length = LENGTH_BASE[symbol - 257] + bits(LENGTH_EXTRA[symbol - 257]);
      const d = decode(distanceCode);
      const distance = DISTANCE_BASE[d] + bits(DISTANCE_EXTRA[d]);
      for (const stop = written + length; written < stop; written += 1) out[written] = out[written - distance];
    }
  } while (!last);
  if (written !== size) throw new Error("inflate: the stream does not match its gzip size");
  return out;
}
