/** A service entry of a PLC operation (`services.atproto_pds`, …). */
export interface PlcService {
  type: string
  endpoint: string
}

/** An unsigned `plc_operation`: the full state of the DID after it applies. */
export interface UnsignedPlcOperation {
  type: 'plc_operation'
  /** did:key rotation keys, highest priority first. */
  rotationKeys: string[]
  /** Verification methods by fragment id (`atproto` is the repo signing key), as did:key. */
  verificationMethods: Record<string, string>
  alsoKnownAs: string[]
  services: Record<string, PlcService>
  /** CID (string) of the previous operation; null only for the genesis operation. */
  prev: string | null
}

/** A signed `plc_operation`. */
export interface PlcOperation extends UnsignedPlcOperation {
  /** base64url (no padding) of the 64-byte compact low-S signature over the DAG-CBOR unsigned op. */
  sig: string
}

/** An unsigned `plc_tombstone`: deactivates the DID for good. */
export interface UnsignedPlcTombstone {
  type: 'plc_tombstone'
  prev: string
}

/** A signed `plc_tombstone`. */
export interface PlcTombstone extends UnsignedPlcTombstone {
  sig: string
}

/** The legacy genesis format (`type: 'create'`), still found at the head of early logs. */
export interface LegacyCreateOperation {
  type: 'create'
  signingKey: string
  recoveryKey: string
  handle: string
  service: string
  prev: null
  sig: string
}

/** An operation or tombstone: what may be submitted to a directory. */
export type PlcOpOrTombstone = PlcOperation | PlcTombstone
/** Anything that may appear in a PLC log. */
export type AnyPlcOperation = PlcOperation | PlcTombstone | LegacyCreateOperation
/** Any unsigned operation. */
export type UnsignedAnyPlcOperation = UnsignedPlcOperation | UnsignedPlcTombstone

/** The data a DID document is built from (served at `/{did}/data`). */
export interface PlcDocumentData {
  did: string
  verificationMethods: Record<string, string>
  rotationKeys: string[]
  alsoKnownAs: string[]
  services: Record<string, PlcService>
}

/** One stored operation of a DID's log, with its directory metadata. */
export interface PlcLogEntry {
  did: string
  operation: AnyPlcOperation
  /** CID of the signed operation (DAG-CBOR, sha-256), as a string. */
  cid: string
  nullified: boolean
  createdAt: Date
  /** Position in the directory-wide export sequence (assigned by the store). */
  seq?: number
}

/** The W3C DID document rendered from PLC data. */
export interface PlcDidDocument {
  '@context': string[]
  id: string
  alsoKnownAs: string[]
  verificationMethod: { id: string; type: string; controller: string; publicKeyMultibase: string }[]
  service: { id: string; type: string; serviceEndpoint: string }[]
}
