/**
 * HEROS key expressions for events, as heros 0.8.9 builds and reads them:
 *
 *   @object/<realm>/<object selector>/<event name>     (EventObserver's subscription)
 *   @object/heros/my-camera/acquisition_data  →  source "my-camera"
 */

/**
 * The Zenoh namespace of every HERO (`HEROPeer._ns_objects` in heros 0.8.9). Its chunk starts
 * with `@`, which Zenoh matches only verbatim: `**` alone never reaches HEROS traffic.
 */
export const HEROS_NAMESPACE = '@object';

/**
 * The key expression `heros.EventObserver(object_selector, event_name, realm=realm)`
 * subscribes to. `objectSelector` is spliced in as given: a HERO name, `*`, or any
 * key-expression fragment such as `cam*` or `lab/**`.
 */
export function eventKeyExpr(realm: string, objectSelector: string, eventName: string): string {
  return [HEROS_NAMESPACE, realm, objectSelector, eventName].join('/');
}

// One compiled pattern per (realm, event); cleared wholesale when it grows, since a daemon sees
// only a handful of pairs.
const patterns = new Map<string, RegExp>();
const MAX_PATTERNS = 256;

/**
 * The source (HERO) name of an event key, as heros' `object_name_from_keyexpr` finds it:
 * `re.search(f"{ns}/{realm}/(.*?)/{event}", key)`. The search is not anchored and the capture
 * is the shortest that is followed by `/<event>`, so a nested name `lab/cam` is returned whole
 * and `@object/heros/a/frame_x/frame` gives `a` for the event `frame`.
 *
 * Python splices `realm` and the event name into the pattern unescaped; here they are taken
 * literally, which gives the same result for every realm and event name without regex
 * metacharacters (event names are Python identifiers).
 *
 * @returns undefined where Python's search finds no match (heros then raises and drops the event).
 */
export function sourceFromKey(key: string, realm: string, eventName: string): string | undefined {
  const id = `${realm}\u0000${eventName}`;
  let pattern = patterns.get(id);
  if (pattern === undefined) {
    if (patterns.size >= MAX_PATTERNS) patterns.clear();
    // Python's `.` matches anything but "\n"; JavaScript's also stops at "\r", U+2028 and U+2029.
    pattern = new RegExp(`${escapeRegExp(HEROS_NAMESPACE)}/${escapeRegExp(realm)}/([^\\n]*?)/${escapeRegExp(eventName)}`);
    patterns.set(id, pattern);
  }
  return pattern.exec(key)?.[1];
}

function escapeRegExp(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}
