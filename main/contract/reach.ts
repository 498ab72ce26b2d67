/**
 * The contract's reachability and sharing part: the public addresses a Keeper
 * knows, how it knows them, the port mapping, discv5, and what it hands out.
 * Imports nothing, like the rest of the contract.
 */
/** How a public address became known: mapped on the router, seen by peers, or given by a flag. */
export type AddressOrigin = 'upnp' | 'pmp' | 'observed' | 'extip' | 'announce' | 'dns4' | 'listen';

/** What a stranger's AutoNAT dial-back said of an address; DNS names and ports nobody was asked about stay unchecked. */
export type AddressCheck = 'confirmed' | 'failed' | 'unchecked';

export interface PublicAddress {
  /** Without /p2p/. */
  multiaddr: string;
  origins: AddressOrigin[];
  check: AddressCheck;
  checkedAtMs: number | null;
  /** The peer that dialled back, or failed to. */
  checkedBy: string | null;
  /** Given to peers (identify, the ENR, the share card). */
  announced: boolean;
}

/** Whether strangers can dial this node: one confirmed address is enough; private means dial-backs failed or there is no public address at all. */
export type Reachability = 'public' | 'private' | 'unknown';

export interface PortMappingStatus {
  /** The --nat mode: any, upnp, pmp, extip:IP or none. */
  mode: string;
  /** The protocol that mapped, once one did. */
  method: 'upnp' | 'pmp' | null;
  state: 'off' | 'searching' | 'mapped' | 'failed';
  gateway: string | null;
  externalIp: string | null;
  ports: { protocol: 'tcp' | 'udp'; internalPort: number; externalPort: number; purpose: string }[];
  /** Why the last attempt failed (a refusing router, no gateway found). */
  error: string | null;
  renewedAtMs: number | null;
}

export interface Discv5Status {
  enabled: boolean;
  udpPort: number | null;
  /** Nodes in the discv5 routing table. */
  tableSize: number;
  /** Waku nodes found so far (with relay or store in their ENR), and those among them with the store bit. */
  discovered: number;
  storeNodes: number;
}

export interface ReachabilityStatus {
  reachability: Reachability;
  /** Why, in a sentence a person can act on. */
  reason: string;
  addresses: PublicAddress[];
  mapping: PortMappingStatus;
  lastCheckMs: number | null;
  /** When not reachable: what to forward on the router (protocol, port, to which LAN address). */
  advice: string | null;
  discv5: Discv5Status;
}

/** What to hand others so they can use this Keeper as a store node. */
export interface ShareInfo {
  peerId: string;
  /** Dialable addresses with /p2p/: public ones when known, else this node's own. */
  multiaddrs: string[];
  /** The node's signed ENR (EIP-778, with Waku's waku2, multiaddrs and rs fields). */
  enr: string;
  /** Whether the addresses are known to be reachable from outside. */
  reachable: boolean;
  snippets: {
    /** One entry for a Status desktop fleets file's storeNodes list (`--waku-fleets-config`). */
    fleetsEntry: string;
    /** A js-waku light node that uses this Keeper as its store peer. */
    jsWaku: string;
    /** The flag that makes another Keeper fill its history from this one. */
    storePeerFlag: string;
  };
}
