import Foundation
import MultiNICCore
import MultiNICKube

/// Decides whether a bearer token presented over TCP may call the daemon.
public protocol DaemonAuthenticator: Sendable {
    func authenticate(_ token: String) async -> Bool
}

/// One shared secret (the lab, a standalone daemon): compared in constant time.
public struct StaticTokenAuthenticator: DaemonAuthenticator {
    let token: String?

    /// `nil` refuses every token.
    public init(token: String?) { self.token = token }

    public func authenticate(_ presented: String) async -> Bool {
        guard let token else { return false }
        let (left, right) = (Array(presented.utf8), Array(token.utf8))
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// A cluster's daemon: the operator presents a short-lived service-account token requested for the audience
/// `multi-nicd:<this node>`; the API server's TokenReview says whose it is and for which audience. A token issued for
/// another node — or captured on another node — is refused here.
///
/// Answers are cached (accepted ones for `cacheSeconds`, refused ones briefly) in a bounded table, and reviews are
/// rate-limited, so a flood of made-up tokens costs the API server at most `reviewsPerSecond` calls.
public actor TokenReviewAuthenticator: DaemonAuthenticator {

    let client: KubeClient
    let audience: String
    let allowedUsers: Set<String>
    let cacheSeconds: Double
    let reviewsPerSecond: Double
    private var cache: [String: (accepted: Bool, until: ContinuousClock.Instant)] = [:]
    private var budget: Double
    private var refilled = ContinuousClock.now
    /// Reviews sent (for tests and metrics).
    public private(set) var reviews = 0

    public init(client: KubeClient, audience: String, allowedUsers: Set<String>, cacheSeconds: Double = 60, reviewsPerSecond: Double = 5) {
        self.client = client
        self.audience = audience
        self.allowedUsers = allowedUsers
        self.cacheSeconds = cacheSeconds
        self.reviewsPerSecond = reviewsPerSecond
        self.budget = reviewsPerSecond
    }

    public func authenticate(_ token: String) async -> Bool {
        let now = ContinuousClock.now
        if let cached = cache[token], cached.until > now { return cached.accepted }
        budget = min(reviewsPerSecond, budget + reviewsPerSecond * Self.seconds(now - refilled))
        refilled = now
        guard budget >= 1 else { return false }
        budget -= 1
        reviews += 1
        let accepted = await review(token)
        if cache.count >= 256 { cache = cache.filter { $0.value.until > now } }
        if cache.count < 256 { cache[token] = (accepted, now + .seconds(accepted ? cacheSeconds : 5)) }
        return accepted
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    struct Review: Codable {
        struct Spec: Codable {
            var token: String?
            var audiences: [String]?
        }

        struct Status: Codable {
            struct User: Codable { var username: String? }
            var authenticated: Bool?
            var user: User?
            var audiences: [String]?
            var error: String?
        }

        var apiVersion = "authentication.k8s.io/v1"
        var kind = "TokenReview"
        var spec: Spec
        var status: Status?
    }

    private func review(_ token: String) async -> Bool {
        let request = Review(spec: .init(token: token, audiences: [audience]))
        guard let body = try? JSONEncoder().encode(request),
              let answer = try? await client.call("POST", "/apis/authentication.k8s.io/v1/tokenreviews", body: Array(body)),
              let status = (try? JSONDecoder().decode(Review.self, from: Data(answer)))?.status
        else { return false }
        // The API server echoes the audiences the token is valid for (a subset of ours); an empty list would mean
        // "the API server's own audience", which is not ours.
        guard status.authenticated == true, let user = status.user?.username, allowedUsers.contains(user),
              (status.audiences ?? []).contains(audience)
        else { return false }
        return true
    }
}
