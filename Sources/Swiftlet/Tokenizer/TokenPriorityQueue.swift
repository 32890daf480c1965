/// An element of a `TokenPriorityQueue`: `precedes` says which of two comes out first.
protocol TokenQueueElement {
    static func precedes(_ a: Self, _ b: Self) -> Bool
}

/// A binary min-heap (by `Element.precedes`) that keeps its storage between uses, for the
/// bigram queues of the BPE merge loops.
struct TokenPriorityQueue<Element: TokenQueueElement> {
    private(set) var storage: [Element] = []

    var isEmpty: Bool { storage.isEmpty }

    mutating func removeAll() { storage.removeAll(keepingCapacity: true) }

    mutating func push(_ element: Element) {
        storage.append(element)
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Element.precedes(storage[child], storage[parent]) else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard let last = storage.popLast() else { return nil }
        guard !storage.isEmpty else { return last }
        let top = storage[0]
        storage[0] = last
        var parent = 0
        let count = storage.count
        while true {
            let left = 2 * parent + 1
            guard left < count else { break }
            let right = left + 1
            var best = left
            if right < count && Element.precedes(storage[right], storage[left]) { best = right }
            guard Element.precedes(storage[best], storage[parent]) else { break }
            storage.swapAt(best, parent)
            parent = best
        }
        return top
    }
}
