/** The bytes of `base64`: a loop, not Uint8Array.from with a mapper (1.5 ms instead of 8 for the wasm). */
export function base64Bytes(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
  return bytes;
}
