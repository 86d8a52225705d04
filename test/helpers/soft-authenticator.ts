// A software WebAuthn authenticator for tests: one ES256 (P-256) credential,
// 'none' attestation, and every knob a security test needs to forge a bad
// response (wrong origin or RP ID, no user verification, old counter, another
// challenge, a cross-origin frame). Not a browser: it does not enforce
// allowCredentials or excludeCredentials, so tests can present any credential.
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

/** Just enough CBOR (RFC 8949) for attestation objects and COSE keys. */
export function cbor(value: Cbor): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 0x100) return Buffer.from([(major << 5) | 24, n]);
    if (n < 0x10000) return Buffer.from([(major << 5) | 25, n >> 8, n & 0xff]);
    const b = Buffer.alloc(5);
    b[0] = (major << 5) | 26;
    b.writeUInt32BE(n, 1);
    return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([head(3, bytes.length), bytes]);
  }
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

const b64url = (bytes: Uint8Array | string) => Buffer.from(bytes).toString('base64url');
const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest();

const FLAG = { UP: 0x01, UV: 0x04, BE: 0x08, BS: 0x10, AT: 0x40 };

export interface SoftAuthenticatorOptions {
  rpId: string;
  origin: string;
}

export interface RegisterOptions {
  userVerified?: boolean;
  /** A synced passkey: backup eligible and backed up (BE, BS). */
  backedUp?: boolean;
  origin?: string;
  rpId?: string;
  challenge?: string;
  crossOrigin?: boolean;
}

export interface AuthenticateOptions {
  userVerified?: boolean;
  /** Signature counter to report; by default the last one plus one. */
  counter?: number;
  origin?: string;
  rpId?: string;
  challenge?: string;
  crossOrigin?: boolean;
  /** User presence (UP); true unless a test wants a silent assertion. */
  userPresent?: boolean;
}

export class SoftAuthenticator {
  readonly rpId: string;
  readonly origin: string;
  /** base64url credential id, as the server stores it. */
  readonly credentialId: string;
  readonly #rawId: Buffer;
  readonly #privateKey: KeyObject;
  readonly #cosePublicKey: Buffer;
  #counter = 0;
  #backedUp = false;
  #userHandle: string | undefined;

  constructor({ rpId, origin }: SoftAuthenticatorOptions) {
    this.rpId = rpId;
    this.origin = origin;
    this.#rawId = randomBytes(32);
    this.credentialId = b64url(this.#rawId);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.#privateKey = privateKey;
    const jwk = publicKey.export({ format: 'jwk' });
    // COSE_Key: kty EC2 (2), alg ES256 (-7), crv P-256 (1), x, y.
    this.#cosePublicKey = cbor(new Map<Cbor, Cbor>([
      [1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')],
    ]));
  }

  /** The last counter this authenticator reported. */
  get counter(): number {
    return this.#counter;
  }

  #clientData(type: string, challenge: string, origin: string, crossOrigin: boolean | undefined): string {
    return b64url(JSON.stringify({ type, challenge, origin, crossOrigin: crossOrigin ?? false }));
  }

  #flags(userVerified: boolean, userPresent = true): number {
    return (userPresent ? FLAG.UP : 0) | (userVerified ? FLAG.UV : 0) | (this.#backedUp ? FLAG.BE | FLAG.BS : 0);
  }

  /** navigator.credentials.create(): the same credential each call, so a second call is a duplicate. */
  register(optionsJSON: PublicKeyCredentialCreationOptionsJSON, options: RegisterOptions = {}): RegistrationResponseJSON {
    if (!optionsJSON.pubKeyCredParams.some((p) => p.alg === -7)) throw new Error('NotSupportedError: ES256 not offered');
    this.#backedUp = options.backedUp ?? false;
    this.#userHandle = optionsJSON.user.id;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.#counter);
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.#rawId.length);
    const authData = Buffer.concat([
      sha256(options.rpId ?? optionsJSON.rp.id ?? this.rpId),
      Buffer.from([this.#flags(options.userVerified ?? true) | FLAG.AT]),
      counter,
      Buffer.alloc(16), // AAGUID: zeros, as with 'none' attestation
      idLength,
      this.#rawId,
      this.#cosePublicKey,
    ]);
    const attestationObject = cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON: this.#clientData('webauthn.create', options.challenge ?? optionsJSON.challenge, options.origin ?? this.origin, options.crossOrigin),
        attestationObject: b64url(attestationObject),
        transports: ['usb'],
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    };
  }

  /** navigator.credentials.get(): an ES256 assertion over authenticatorData ‖ SHA-256(clientDataJSON). */
  authenticate(optionsJSON: PublicKeyCredentialRequestOptionsJSON, options: AuthenticateOptions = {}): AuthenticationResponseJSON {
    this.#counter = options.counter ?? this.#counter + 1;
    const counter = Buffer.alloc(4);
    counter.writeUInt32BE(this.#counter);
    const authData = Buffer.concat([
      sha256(options.rpId ?? optionsJSON.rpId ?? this.rpId),
      Buffer.from([this.#flags(options.userVerified ?? true, options.userPresent)]),
      counter,
    ]);
    const clientDataJSON = this.#clientData('webauthn.get', options.challenge ?? optionsJSON.challenge, options.origin ?? this.origin, options.crossOrigin);
    const signature = sign('sha256', Buffer.concat([authData, sha256(Buffer.from(clientDataJSON, 'base64url'))]), this.#privateKey);
    return {
      id: this.credentialId,
      rawId: this.credentialId,
      type: 'public-key',
      response: {
        clientDataJSON,
        authenticatorData: b64url(authData),
        signature: b64url(signature), // DER, as WebAuthn's ES256 signatures are
        ...(this.#userHandle ? { userHandle: this.#userHandle } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: 'cross-platform',
    };
  }
}
