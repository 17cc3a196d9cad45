/// An element of a min-heap: `before` is the heap's strict order (the merge that must happen first).
protocol HeapOrdered {
    func before(_ other: Self) -> Bool
}

/// A binary min-heap kept in an array: both tokenizers' merge queues.
extension Array where Element: HeapOrdered {
    @inline(__always)
    mutating func heapPush(_ element: Element) {
        append(element)
        var i = count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            guard self[i].before(self[parent]) else { break }
            swapAt(i, parent)
            i = parent
        }
    }

    @inline(__always)
    mutating func heapPopMin() -> Element? {
        guard let last = popLast() else { return nil }
        if isEmpty { return last }
        let top = self[0]
        self[0] = last
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < count && self[l].before(self[m]) { m = l }
            if r < count && self[r].before(self[m]) { m = r }
            if m == i { break }
            swapAt(i, m)
            i = m
        }
        return top
    }
}
