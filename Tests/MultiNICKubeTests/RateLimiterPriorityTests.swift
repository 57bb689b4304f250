import Testing
@testable import MultiNICKube

/// The client's two request lanes: background requests (the IPPool mirror) take the budget only while no foreground
/// request waits for it.
@Suite struct RateLimiterPriorityTests {
    @Test func aForegroundRequestGoesBeforeQueuedBackgroundRequests() async throws {
        // A token every 500 ms: the foreground request is queued long before the second one comes, however
        // loaded the machine is.
        let limiter = RateLimiter(perSecond: 2, burst: 1)
        await limiter.acquire(.foreground)  // the burst is spent: everyone below waits for refills
        let order = Order()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask {
                    await limiter.acquire(.background)
                    await order.append("background \(index)")
                }
            }
            // Once the background requests are queued, a foreground one arrives.
            while await limiter.waitingBackground + order.items.count < 4 { try? await Task.sleep(for: .milliseconds(5)) }
            group.addTask {
                await limiter.acquire(.foreground)
                await order.append("foreground")
            }
        }
        let served = await order.items
        let position = try #require(served.firstIndex(of: "foreground"))
        // At most the one background request already holding the next token goes first.
        #expect(position <= 1, "\(served)")
        #expect(served.count == 5)
    }

    actor Order {
        var items: [String] = []
        func append(_ item: String) { items.append(item) }
    }
}
