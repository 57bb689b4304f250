import Crypto
import Foundation
import SwiftASN1
import X509

/// The operator's small certificate authority for the operator → daemon channel (pure: no I/O).
///
/// One CA (P-256, ten years) whose key only the operator holds, and one serving certificate (P-256, one year) for the
/// name ``serverName``, which every daemon presents. The operator connects to a node's address but verifies the
/// certificate against ``serverName`` and this CA only — never the system trust store.
public enum DaemonCertificates {
    /// The DNS name in every daemon's serving certificate (the operator's connections name it, whatever the address).
    public static let serverName = "multi-nicd"

    /// A certificate and its key, both PEM.
    public struct KeyPair: Sendable, Hashable {
        public var certificate: String
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// Why a PEM pair cannot be used.
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// A new CA valid from five minutes ago (clock skew) for `years`.
    public static func makeAuthority(now: Date = Date(), years: Int = 10) throws(Problem) -> KeyPair {
        do {
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName {
                OrganizationName("MultiNIC")
                CommonName("multi-nicd CA")
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now - 300, notValidAfter: now + Double(years) * 365 * 86400, issuer: name, subject: name,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: .init(key.publicKey))
                },
                issuerPrivateKey: .init(key))
            return KeyPair(certificate: try certificate.serializeAsPEM().pemString, key: key.pemRepresentation)
        } catch {
            throw Problem("cannot make the daemon CA: \(error)")
        }
    }

    /// A serving certificate for ``serverName`` signed by `authority`, valid for `days`.
    public static func makeServing(authority: KeyPair, now: Date = Date(), days: Int = 365) throws(Problem) -> KeyPair {
        let (caCertificate, caKey) = try parse(authority)
        do {
            let key = P256.Signing.PrivateKey()
            let subject = try DistinguishedName {
                OrganizationName("MultiNIC")
                CommonName(serverName)
            }
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
                notValidBefore: now - 300, notValidAfter: now + Double(days) * 86400, issuer: caCertificate.subject, subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    SubjectAlternativeNames([.dnsName(serverName)])
                    SubjectKeyIdentifier(hash: .init(key.publicKey))
                    if let identifier = try? caCertificate.extensions.subjectKeyIdentifier {
                        AuthorityKeyIdentifier(keyIdentifier: identifier.keyIdentifier)
                    }
                },
                issuerPrivateKey: caKey)
            return KeyPair(certificate: try certificate.serializeAsPEM().pemString, key: key.pemRepresentation)
        } catch {
            throw Problem("cannot issue the daemon serving certificate: \(error)")
        }
    }

    /// Whether `serving` still does: issued by `authority`'s key, for ``serverName``, its key matching, and valid for
    /// at least `renewBefore` seconds more. `nil` when it does; otherwise why it must be issued again.
    public static func servingProblem(_ serving: KeyPair, authority: KeyPair, now: Date = Date(),
                                      renewBefore: TimeInterval = 30 * 86400) -> String? {
        guard let (caCertificate, _) = try? parse(authority) else { return "the CA cannot be read" }
        guard let (certificate, key) = try? parse(serving) else { return "the serving certificate or key cannot be read" }
        guard certificate.publicKey == key.publicKey else { return "the serving key does not match its certificate" }
        guard certificate.issuer == caCertificate.subject, caCertificate.publicKey.isValidSignature(certificate.signature, for: certificate)
        else { return "the serving certificate was not issued by the current CA" }
        guard let names = try? certificate.extensions.subjectAlternativeNames, names.contains(.dnsName(serverName)) else {
            return "the serving certificate does not name \(serverName)"
        }
        guard certificate.notValidAfter.timeIntervalSince(now) > renewBefore else { return "the serving certificate expires soon" }
        return nil
    }

    /// Whether `authority` can still sign: readable and valid for at least `renewBefore` seconds more.
    public static func authorityProblem(_ authority: KeyPair, now: Date = Date(), renewBefore: TimeInterval = 400 * 86400) -> String? {
        guard let (certificate, key) = try? parse(authority) else { return "the CA cannot be read" }
        guard certificate.publicKey == key.publicKey else { return "the CA key does not match its certificate" }
        guard certificate.notValidAfter.timeIntervalSince(now) > renewBefore else { return "the CA expires soon" }
        return nil
    }

    static func parse(_ pair: KeyPair) throws(Problem) -> (Certificate, Certificate.PrivateKey) {
        do {
            return (try Certificate(pemEncoded: pair.certificate), try Certificate.PrivateKey(pemEncoded: pair.key))
        } catch {
            throw Problem("not a PEM certificate and key: \(error)")
        }
    }
}
