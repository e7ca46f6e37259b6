//! A min-cost flow network and its solvers, written for many small networks solved back to
//! back: one [`Network`] is cleared and refilled for each item, so its buffers are reused and
//! a round over a million items allocates almost nothing after the first few.
//!
//! Arcs come in pairs (a forward arc `2k` and its residual reverse `2k + 1`); capacities and
//! flows are `f64` in the item's unit, and a capacity may be infinite. Residual capacities at
//! or below the network's epsilon count as zero, so rounding never makes a path out of dust.
//!
//! - [`Network::max_flow`]: Dinic's blocking flows, costs ignored.
//! - [`Network::min_cost_flow`]: successive shortest paths (primal–dual): Dijkstra on reduced
//!   costs with node potentials (Bellman–Ford first when some arc costs are negative), then a
//!   blocking flow over every arc of zero reduced cost, so that ties cost one search.
//!
//! This module knows nothing of needs or items; [`super::alloc`] builds the networks.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Index of a node.
pub type Node = usize;
/// Index of a forward arc (always even).
pub type Arc = usize;

const NONE: u32 = u32::MAX;

/// A flow network with residual capacities, reused from one solve to the next.
#[derive(Debug, Default)]
pub struct Network {
    nodes: usize,
    epsilon: f64,
    // Per arc (forward and reverse).
    head: Vec<u32>,
    next: Vec<u32>,
    residual: Vec<f64>,
    cost: Vec<f64>,
    // Per forward arc pair: the capacity set by the caller.
    upper: Vec<f64>,
    // Per node.
    first: Vec<u32>,
    potential: Vec<f64>,
    dist: Vec<f64>,
    via: Vec<u32>,
    done: Vec<bool>,
    queue: Vec<u32>,
    heap: BinaryHeap<Entry>,
    current: Vec<u32>,
    on_path: Vec<bool>,
    path: Vec<u32>,
}

/// Which arcs a blocking flow may use.
#[derive(Debug, Clone, Copy)]
enum Admissible {
    /// Arcs one breadth-first level up.
    Level,
    /// Arcs of zero reduced cost.
    Tight,
}

/// A heap entry ordered by smallest distance first.
#[derive(Debug, PartialEq)]
struct Entry(f64, u32);

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

impl Network {
    pub fn new() -> Network {
        Network::default()
    }

    /// Empties the network and gives it `nodes` nodes and no arcs. Residual capacities at or
    /// below `epsilon` count as zero.
    pub fn reset(&mut self, nodes: usize, epsilon: f64) {
        self.nodes = nodes;
        self.epsilon = epsilon;
        self.head.clear();
        self.next.clear();
        self.residual.clear();
        self.cost.clear();
        self.upper.clear();
        self.first.clear();
        self.first.resize(nodes, NONE);
    }

    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    pub fn nodes(&self) -> usize {
        self.nodes
    }

    /// The number of forward arcs.
    pub fn arcs(&self) -> usize {
        self.upper.len()
    }

    /// Adds an arc with no flow; returns its index.
    pub fn add_arc(&mut self, from: Node, to: Node, capacity: f64, cost: f64) -> Arc {
        debug_assert!(from < self.nodes && to < self.nodes);
        debug_assert!(capacity >= 0.0 && cost.is_finite());
        let arc = self.head.len();
        self.head.push(to as u32);
        self.next.push(self.first[from]);
        self.first[from] = arc as u32;
        self.residual.push(capacity);
        self.cost.push(cost);
        self.head.push(from as u32);
        self.next.push(self.first[to]);
        self.first[to] = arc as u32 + 1;
        self.residual.push(0.0);
        self.cost.push(-cost);
        self.upper.push(capacity);
        arc
    }

    /// Sets an arc's capacity and cost, keeping its flow, which must fit (capacities change
    /// between solves, never during one).
    pub fn set_arc(&mut self, arc: Arc, capacity: f64, cost: f64) {
        debug_assert!(self.residual[arc | 1] <= capacity + self.epsilon);
        self.upper[arc / 2] = capacity;
        self.residual[arc & !1] = capacity - self.residual[arc | 1];
        self.cost[arc] = cost;
        self.cost[arc ^ 1] = -cost;
    }

    /// Sets an arc's cost per unit.
    pub fn set_cost(&mut self, arc: Arc, cost: f64) {
        self.cost[arc] = cost;
        self.cost[arc ^ 1] = -cost;
    }

    /// Copies the current flow (with the capacities) into `into`, for [`Network::restore`].
    pub fn save(&self, into: &mut Vec<f64>) {
        into.clear();
        into.extend_from_slice(&self.residual);
        into.extend_from_slice(&self.upper);
    }

    /// Puts back a flow and capacities saved from this network with the same arcs.
    pub fn restore(&mut self, from: &[f64]) {
        let (residual, upper) = from.split_at(self.residual.len());
        self.residual.copy_from_slice(residual);
        self.upper.copy_from_slice(upper);
    }

    /// Removes all flow.
    pub fn clear_flow(&mut self) {
        for (pair, &upper) in self.upper.iter().enumerate() {
            self.residual[2 * pair] = upper;
            self.residual[2 * pair + 1] = 0.0;
        }
    }

    pub fn flow(&self, arc: Arc) -> f64 {
        self.residual[arc | 1]
    }

    pub fn capacity(&self, arc: Arc) -> f64 {
        self.upper[arc / 2]
    }

    pub fn cost(&self, arc: Arc) -> f64 {
        self.cost[arc]
    }

    /// The node an arc leaves.
    pub fn tail(&self, arc: Arc) -> Node {
        self.head[arc ^ 1] as usize
    }

    /// The node an arc enters.
    pub fn head(&self, arc: Arc) -> Node {
        self.head[arc] as usize
    }

    /// Whether the arc (forward or reverse) can carry more.
    pub fn has_room(&self, arc: usize) -> bool {
        self.residual[arc] > self.epsilon
    }

    /// The arcs leaving `node`, reverse arcs included (odd indexes).
    pub fn out_arcs(&self, node: Node) -> OutArcs<'_> {
        OutArcs {
            next: &self.next,
            arc: self.first[node],
        }
    }

    fn push(&mut self, arc: usize, amount: f64) {
        self.residual[arc] -= amount;
        self.residual[arc ^ 1] += amount;
    }

    /// Marks in `reached` the nodes that `source` reaches over arcs with room (breadth
    /// first), recording in `via` the arc each was reached by.
    fn search(&mut self, source: Node) {
        self.done.clear();
        self.done.resize(self.nodes, false);
        self.via.clear();
        self.via.resize(self.nodes, NONE);
        self.queue.clear();
        self.done[source] = true;
        self.queue.push(source as u32);
        let mut at = 0;
        while at < self.queue.len() {
            let node = self.queue[at] as usize;
            at += 1;
            let mut arc = self.first[node];
            while arc != NONE {
                let a = arc as usize;
                let to = self.head[a] as usize;
                if !self.done[to] && self.residual[a] > self.epsilon {
                    self.done[to] = true;
                    self.via[to] = arc;
                    self.queue.push(to as u32);
                }
                arc = self.next[a];
            }
        }
    }

    /// Adds the most flow from `source` to `sink` on top of the current flow, ignoring costs;
    /// returns how much was added. Dinic's method: breadth-first levels, then blocking flows
    /// along arcs that go one level up.
    pub fn max_flow(&mut self, source: Node, sink: Node) -> f64 {
        let mut total = 0.0;
        loop {
            self.search(source);
            if !self.done[sink] {
                return total;
            }
            // Levels from the search order: a node's level is its parent's plus one.
            self.dist.clear();
            self.dist.resize(self.nodes, f64::INFINITY);
            self.dist[source] = 0.0;
            for &node in &self.queue[1..] {
                let node = node as usize;
                let parent = self.head[self.via[node] as usize ^ 1] as usize;
                self.dist[node] = self.dist[parent] + 1.0;
            }
            let added = self.blocking_flow(source, sink, Admissible::Level);
            if !added.is_finite() {
                // An uncapacitated path: the caller bounds every source or sink arc.
                return f64::INFINITY;
            }
            total += added;
        }
    }

    /// Whether an arc with room may carry a blocking flow's path.
    fn admissible(&self, arc: usize, mode: Admissible) -> bool {
        let (from, to) = (self.head[arc ^ 1] as usize, self.head[arc] as usize);
        match mode {
            Admissible::Level => self.dist[to] == self.dist[from] + 1.0,
            Admissible::Tight => {
                let reduced = self.cost[arc] + self.potential[from] - self.potential[to];
                reduced <= 1e-9 * self.potential[to].abs().max(1.0)
            }
        }
    }

    /// Pushes flow along admissible paths until none is left (depth first, each node's arcs
    /// tried once through a current-arc pointer); returns the amount pushed.
    fn blocking_flow(&mut self, source: Node, sink: Node, mode: Admissible) -> f64 {
        self.current.clear();
        self.current.extend_from_slice(&self.first);
        self.done.clear();
        self.done.resize(self.nodes, false);
        self.on_path.clear();
        self.on_path.resize(self.nodes, false);
        self.path.clear();
        let mut total = 0.0;
        let mut node = source;
        self.on_path[source] = true;
        loop {
            if node == sink {
                let amount = self
                    .path
                    .iter()
                    .map(|&a| self.residual[a as usize])
                    .fold(f64::INFINITY, f64::min);
                if !amount.is_finite() {
                    return f64::INFINITY;
                }
                for k in 0..self.path.len() {
                    let arc = self.path[k] as usize;
                    self.push(arc, amount);
                }
                total += amount;
                for &arc in &self.path {
                    self.on_path[self.head[arc as usize] as usize] = false;
                }
                self.path.clear();
                node = source;
                continue;
            }
            let mut advanced = false;
            while self.current[node] != NONE {
                let arc = self.current[node] as usize;
                let to = self.head[arc] as usize;
                if self.residual[arc] > self.epsilon
                    && !self.done[to]
                    && !self.on_path[to]
                    && self.admissible(arc, mode)
                {
                    self.path.push(arc as u32);
                    self.on_path[to] = true;
                    node = to;
                    advanced = true;
                    break;
                }
                self.current[node] = self.next[arc];
            }
            if !advanced {
                self.done[node] = true;
                self.on_path[node] = false;
                let Some(arc) = self.path.pop() else {
                    return total;
                };
                let arc = arc as usize;
                node = self.head[arc ^ 1] as usize;
                self.current[node] = self.next[arc];
            }
        }
    }

    /// The nodes reached from `source` over arcs with room, after a solve: for a maximum
    /// flow, the source side of the minimum cut nearest the source.
    pub fn reachable(&mut self, source: Node) -> &[bool] {
        self.search(source);
        &self.done
    }

    /// Adds flow from `source` to `sink` along successive cheapest paths for as long as a
    /// path costs less than nothing or, with `maximum` true, for as long as any path exists.
    /// The current flow must be of least cost for its amount (no flow at all is). Returns the
    /// amount added and its cost.
    pub fn min_cost_flow(&mut self, source: Node, sink: Node, maximum: bool) -> (f64, f64) {
        self.init_potentials(source);
        let (mut total, mut cost) = (0.0, 0.0);
        loop {
            if !self.dijkstra(source, sink) {
                return (total, cost);
            }
            let path_cost = self.dist[sink] + self.potential[sink] - self.potential[source];
            if !maximum && path_cost >= 0.0 {
                return (total, cost);
            }
            let limit = self.dist[sink];
            for node in 0..self.nodes {
                self.potential[node] += self.dist[node].min(limit);
            }
            // Every path of arcs with zero reduced cost is a cheapest path now: fill them all
            // before the next search.
            let amount = self.blocking_flow(source, sink, Admissible::Tight);
            if !amount.is_finite() {
                return (f64::INFINITY, f64::NEG_INFINITY);
            }
            total += amount;
            cost += amount * path_cost;
        }
    }

    /// Potentials that make every reduced cost of an arc with room non-negative: zero when no
    /// such arc costs less than nothing, shortest distances from `source` otherwise.
    fn init_potentials(&mut self, source: Node) {
        self.potential.clear();
        self.potential.resize(self.nodes, 0.0);
        let negative =
            (0..self.residual.len()).any(|a| self.residual[a] > self.epsilon && self.cost[a] < 0.0);
        if negative {
            self.bellman_ford(&[source], |_| true);
            for node in 0..self.nodes {
                let d = self.dist[node];
                self.potential[node] = if d.is_finite() { d } else { 0.0 };
            }
        }
    }

    /// Cheapest distances from `sources` over the arcs with room that `usable` accepts (it
    /// is given the forward arc of each pair; Bellman–Ford with a queue); unreached nodes get
    /// infinity. The arcs with room must hold no cycle of negative cost, which is so after any
    /// solve here.
    pub fn bellman_ford(&mut self, sources: &[Node], usable: impl Fn(Arc) -> bool) -> &[f64] {
        self.dist.clear();
        self.dist.resize(self.nodes, f64::INFINITY);
        self.done.clear();
        self.done.resize(self.nodes, false);
        self.queue.clear();
        for &source in sources {
            self.dist[source] = 0.0;
            self.done[source] = true;
            self.queue.push(source as u32);
        }
        let mut at = 0;
        // Each node enters the queue at most `nodes` times when no cycle is negative; the
        // bound stops rounding from looping.
        let mut budget = self.nodes * self.residual.len() + self.nodes;
        while at < self.queue.len() && budget > 0 {
            budget -= 1;
            let node = self.queue[at] as usize;
            at += 1;
            self.done[node] = false;
            let mut arc = self.first[node];
            while arc != NONE {
                let a = arc as usize;
                let to = self.head[a] as usize;
                let d = self.dist[node] + self.cost[a];
                if self.residual[a] > self.epsilon
                    && d < self.dist[to] - 1e-12 * d.abs().max(1.0)
                    && usable(a & !1)
                {
                    self.dist[to] = d;
                    if !self.done[to] {
                        self.done[to] = true;
                        self.queue.push(to as u32);
                    }
                }
                arc = self.next[a];
            }
            if at > 4096 && at * 2 > self.queue.len() {
                self.queue.drain(..at);
                at = 0;
            }
        }
        &self.dist
    }

    /// Dijkstra on reduced costs from `source`; returns whether `sink` is reached.
    fn dijkstra(&mut self, source: Node, sink: Node) -> bool {
        self.dist.clear();
        self.dist.resize(self.nodes, f64::INFINITY);
        self.done.clear();
        self.done.resize(self.nodes, false);
        self.via.clear();
        self.via.resize(self.nodes, NONE);
        self.heap.clear();
        self.dist[source] = 0.0;
        self.heap.push(Entry(0.0, source as u32));
        while let Some(Entry(d, node)) = self.heap.pop() {
            let node = node as usize;
            if self.done[node] {
                continue;
            }
            self.done[node] = true;
            if node == sink {
                break;
            }
            let mut arc = self.first[node];
            while arc != NONE {
                let a = arc as usize;
                let to = self.head[a] as usize;
                if !self.done[to] && self.residual[a] > self.epsilon {
                    // Rounding can leave a reduced cost a hair below zero.
                    let reduced =
                        (self.cost[a] + self.potential[node] - self.potential[to]).max(0.0);
                    let next = d + reduced;
                    if next < self.dist[to] {
                        self.dist[to] = next;
                        self.via[to] = arc;
                        self.heap.push(Entry(next, to as u32));
                    }
                }
                arc = self.next[a];
            }
        }
        self.done[sink]
    }
}

/// The arcs leaving one node.
#[derive(Debug)]
pub struct OutArcs<'a> {
    next: &'a [u32],
    arc: u32,
}

impl Iterator for OutArcs<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.arc == NONE {
            return None;
        }
        let arc = self.arc as usize;
        self.arc = self.next[arc];
        Some(arc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two sources of 4 and 3 units, a sink wanting 6, over arcs of different costs.
    fn diamond(network: &mut Network) -> [Arc; 6] {
        network.reset(6, 1e-12);
        [
            network.add_arc(0, 1, 4.0, 0.0),
            network.add_arc(0, 2, 3.0, 0.0),
            network.add_arc(1, 3, f64::INFINITY, 5.0),
            network.add_arc(2, 3, 2.0, 1.0),
            network.add_arc(1, 2, 1.0, 1.0),
            network.add_arc(3, 5, 6.0, 0.0),
        ]
    }

    #[test]
    fn the_cheapest_paths_carry_the_most_flow() {
        let mut network = Network::new();
        let arcs = diamond(&mut network);
        let (amount, cost) = network.min_cost_flow(0, 5, true);
        assert_eq!(amount, 6.0);
        // 2 units 2->3 at 1 (1->2 is not needed, since 2 has 3 of its own), 4 units 1->3 at 5.
        assert_eq!(cost, 2.0 + 20.0);
        assert_eq!(network.flow(arcs[3]), 2.0);
        assert_eq!(network.flow(arcs[2]), 4.0);
        assert_eq!(network.flow(arcs[4]), 0.0);
    }

    #[test]
    fn max_flow_and_its_cut() {
        let mut network = Network::new();
        let arcs = diamond(&mut network);
        network.set_arc(arcs[5], 9.0, 0.0);
        assert_eq!(network.max_flow(0, 5), 6.0);
        let reached = network.reachable(0).to_vec();
        // The sources are spent: the cut is at the supply arcs.
        assert_eq!(reached, [true, false, true, false, false, false]);
        assert!(!reached[2] || !network.has_room(arcs[3]));
    }

    #[test]
    fn negative_costs_stop_when_paths_stop_paying() {
        let mut network = Network::new();
        network.reset(4, 1e-12);
        let gain = network.add_arc(2, 3, 10.0, -3.0);
        network.add_arc(0, 1, 10.0, 0.0);
        let cheap = network.add_arc(1, 2, 4.0, 1.0);
        let dear = network.add_arc(1, 2, 10.0, 5.0);
        let (amount, cost) = network.min_cost_flow(0, 3, false);
        assert_eq!((amount, cost), (4.0, -8.0));
        assert_eq!(network.flow(gain), 4.0);
        assert_eq!(network.flow(cheap), 4.0);
        assert_eq!(network.flow(dear), 0.0);
    }

    #[test]
    fn a_network_is_reused_without_leftovers() {
        let mut network = Network::new();
        diamond(&mut network);
        network.min_cost_flow(0, 5, true);
        network.reset(3, 1e-12);
        let only = network.add_arc(0, 1, 2.5, 1.0);
        network.add_arc(1, 2, 1.0, 1.0);
        assert_eq!(network.min_cost_flow(0, 2, true), (1.0, 2.0));
        assert_eq!(network.flow(only), 1.0);
        let dist = network.bellman_ford(&[0], |_| true).to_vec();
        assert_eq!(dist[1], 1.0);
        assert_eq!(dist[2], f64::INFINITY);
    }
}
