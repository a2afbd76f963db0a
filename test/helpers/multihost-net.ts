import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// The network of the multi-host rig: one network namespace per host, each joined by a veth pair
// to a bridge in the root namespace, on a /24 of 10.231.0.0/16 that no interface of this
// machine uses yet. The root namespace holds the bridge's address (.1): the private servers and
// the delay proxy listen there. Every name starts with this run's prefix (`jrt<pid>`), so
// cleanup removes exactly what this run made. A partition sets the host's bridge port down:
// with permanent neighbour entries on both sides no ARP is needed, so packets are dropped
// silently (as with a cut cable) and the host's TCP connections sit in retransmission instead
// of failing fast.

export interface Host {
  /** The host name its processes see (`hostname`, os.hostname()). */
  name: string;
  /** Its network namespace, as `ip netns` names it. */
  netns: string;
  address: string;
  /** The veth end on the bridge (root namespace): down = partitioned. */
  bridgePort: string;
}

const PREFIX_RE = /^jrt(\d+)n\d(br|[a-z]\d?)$/;
let instances = 0;

export function ip(args: string[], allowFail = false): string {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) throw new Error(`ip ${args.join(' ')}: ${r.error.message}`);
  if (r.status !== 0 && !allowFail) throw new Error(`ip ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

export class Network {
  private readonly madeNetns: string[] = [];
  private readonly madeLinks: string[] = [];
  readonly hosts = new Map<string, Host>();
  readonly bridge: string;
  /** The bridge's address in the root namespace: where the servers and the proxy listen. */
  readonly gateway: string;
  private readonly subnet: string;

  constructor(readonly prefix = `jrt${process.pid}n${instances++ % 10}`) {
    this.bridge = `${prefix}br`;
    this.subnet = freeSubnet();
    this.gateway = `${this.subnet}.1`;
  }

  /** Makes the bridge and one namespace per host name (e.g. ['mhA', 'mhB']). */
  create(hostNames: string[]): void {
    removeLeftovers();
    // A fixed address: a bridge otherwise takes the lowest of its ports' addresses, which would
    // change (and flush the neighbour entries) as hosts are added.
    ip(['link', 'add', this.bridge, 'address', '02:6a:72:74:00:01', 'type', 'bridge']);
    this.madeLinks.push(this.bridge);
    ip(['addr', 'add', `${this.gateway}/24`, 'dev', this.bridge]);
    ip(['link', 'set', this.bridge, 'up']);
    const bridgeMac = readFileSync(`/sys/class/net/${this.bridge}/address`, 'utf8').trim();
    hostNames.forEach((name, i) => {
      const letter = String.fromCharCode(97 + i);
      const host: Host = { name, netns: `${this.prefix}${letter}`, address: `${this.subnet}.${11 + i}`, bridgePort: `${this.prefix}${letter}0` };
      const inner = `${this.prefix}${letter}1`;
      ip(['netns', 'add', host.netns]);
      this.madeNetns.push(host.netns);
      ip(['link', 'add', host.bridgePort, 'type', 'veth', 'peer', 'name', inner]);
      this.madeLinks.push(host.bridgePort); // deleting one end deletes both
      ip(['link', 'set', host.bridgePort, 'master', this.bridge, 'up']);
      ip(['link', 'set', inner, 'netns', host.netns]);
      ip(['-n', host.netns, 'link', 'set', 'lo', 'up']); // the host's own loopback (wake-up datagrams)
      ip(['-n', host.netns, 'addr', 'add', `${host.address}/24`, 'dev', inner]);
      ip(['-n', host.netns, 'link', 'set', inner, 'up']);
      const innerMac = /link\/ether (\S+)/.exec(ip(['-n', host.netns, 'link', 'show', inner]))![1]!;
      ip(['-n', host.netns, 'neigh', 'replace', this.gateway, 'lladdr', bridgeMac, 'nud', 'permanent', 'dev', inner]);
      ip(['neigh', 'replace', host.address, 'lladdr', innerMac, 'nud', 'permanent', 'dev', this.bridge]);
      this.hosts.set(name, host);
    });
  }

  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no host '${name}' in this rig (hosts: ${[...this.hosts.keys()].join(', ')})`);
    return h;
  }

  /** Cuts the host off: its packets, and packets to it, are dropped without any error. */
  partition(name: string): void {
    ip(['link', 'set', this.host(name).bridgePort, 'down']);
  }

  heal(name: string): void {
    ip(['link', 'set', this.host(name).bridgePort, 'up']);
  }

  /** argv prefix that runs a command inside the host: its namespace and its own host name. */
  execPrefix(name: string): string[] {
    const h = this.host(name);
    // ip netns exec and unshare (without --fork) exec in place: the pid spawned is the command's.
    return ['ip', 'netns', 'exec', h.netns, 'unshare', '--uts', 'sh', '-c', 'hostname "$0" && exec "$@"', h.name];
  }

  /** Removes the namespaces and links this instance made, by name. */
  destroy(): void {
    for (const ns of this.madeNetns.splice(0)) ip(['netns', 'delete', ns], true);
    for (const link of this.madeLinks.splice(0)) ip(['link', 'delete', link], true);
  }

  /** Names this run made that still exist (for the rig's own test of its cleanup). */
  static leftoversOf(prefix: string): string[] {
    const names = [...listNetns(), ...listLinks()];
    return names.filter((n) => n.startsWith(prefix));
  }
}

/** A 10.231.<n>.0/24 on which no address or route of the root namespace lies. */
function freeSubnet(): string {
  const used = ip(['-4', '-o', 'addr', 'show']) + ip(['-4', 'route', 'show', 'table', 'all']);
  for (let k = 0; k < 250; k++) {
    const n = ((process.pid + k) % 250) + 1;
    if (!used.includes(`10.231.${n}.`)) return `10.231.${n}`;
  }
  throw new Error('no free /24 in 10.231.0.0/16 for the multi-host rig');
}

function listNetns(): string[] {
  return ip(['netns', 'list'], true)
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

function listLinks(): string[] {
  return [...ip(['-o', 'link', 'show'], true).matchAll(/^\d+: ([^:@\s]+)/gm)].map((m) => m[1]!);
}

/** Namespaces and links of earlier runs of this rig whose process is gone (a run killed -9). */
function removeLeftovers(): void {
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  };
  const stale = (n: string) => {
    const m = PREFIX_RE.exec(n);
    return m !== null && !alive(Number(m[1]));
  };
  for (const ns of listNetns().filter(stale)) ip(['netns', 'delete', ns], true);
  for (const link of listLinks().filter(stale)) ip(['link', 'delete', link], true);
}
