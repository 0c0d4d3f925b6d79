/**
 * Whether a listen address only reaches this machine: `localhost`, an IPv4 address in
 * 127.0.0.0/8, `::1`, or an IPv4-mapped 127.x address. Addresses are canonicalised the way the
 * WHATWG URL parser does (so `127.1` and `0x7f.0.0.1` count, as getaddrinfo would read them);
 * every other name is refused, since what it resolves to is not ours to know. The wildcards
 * `0.0.0.0` and `::` are not loopback: they listen on every interface.
 */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === 'localhost') return true;
  let canonical: string;
  try {
    canonical = new URL(`http://${host.includes(':') ? `[${host}]` : host}/`).hostname;
  } catch {
    return false;
  }
  return (
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(canonical) ||
    canonical === '[::1]' ||
    /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical)
  );
}
