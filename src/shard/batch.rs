//! Batching of work that freezes several shards (atomic cross-shard commands, cross-shard
//! EXEC), per coordinating shard.
//!
//! Such work serialises on the freezes anyway, and each freeze costs mesh rounds (freeze,
//! release) and, in `appendfsync always`, an fsync while the shards stay frozen. So work
//! started on one shard while a batch of its kind runs waits, and then runs as the next
//! batch, under one freeze: the rounds and the fsync are paid once per batch instead of once
//! per command.
//!
//! The future of the item at the head of the queue runs the batch; when it is done it hands
//! the lead to the next waiting item, so no item's answer waits for batches after its own.
//! Futures run as spawned tasks to completion (a client going away does not drop them), so a
//! lead is never lost.
//!
//! Must never: run an item twice or not at all; hand the lead to an item already in a batch.

use std::cell::RefCell;
use std::collections::VecDeque;

use futures::channel::oneshot;

struct Queued<T, R> {
    item: T,
    answer: oneshot::Sender<R>,
    /// Dropped when the item is taken into a batch; fired when it becomes the head of the
    /// queue with no batch running, so its own future runs the next batch.
    lead: Option<oneshot::Sender<()>>,
}

/// Items of one kind waiting for a batch on one shard, and whether a batch is running or
/// about to.
pub struct Lane<T, R> {
    waiting: VecDeque<Queued<T, R>>,
    running: bool,
}

impl<T, R> Default for Lane<T, R> {
    fn default() -> Self {
        Lane { waiting: VecDeque::new(), running: false }
    }
}

/// Runs `item` in a batch of at most `max` items of `lane`; `run` executes one batch and
/// answers its items in order. Resolves to `item`'s answer.
pub async fn run<T, R, F, Fut>(lane: &RefCell<Lane<T, R>>, item: T, max: usize, run: F) -> R
where
    R: Default,
    F: Fn(Vec<T>) -> Fut,
    Fut: std::future::Future<Output = Vec<R>>,
{
    let (answer_tx, answer_rx) = oneshot::channel();
    let (lead_tx, lead_rx) = oneshot::channel();
    let lead_now = {
        let mut q = lane.borrow_mut();
        q.waiting.push_back(Queued { item, answer: answer_tx, lead: Some(lead_tx) });
        !std::mem::replace(&mut q.running, true)
    };
    let answer_rx = if lead_now {
        answer_rx
    } else {
        match futures::future::select(answer_rx, lead_rx).await {
            futures::future::Either::Left((answer, _)) => return answer.unwrap_or_default(),
            // Handed the lead: this item is at the head of the queue.
            futures::future::Either::Right((Ok(()), answer_rx)) => answer_rx,
            // Taken into a batch (which drops the lead signal): the answer follows.
            futures::future::Either::Right((Err(_), answer_rx)) => return answer_rx.await.unwrap_or_default(),
        }
    };
    let batch: Vec<Queued<T, R>> = {
        let mut q = lane.borrow_mut();
        let n = q.waiting.len().min(max.max(1));
        q.waiting.drain(..n).collect()
    };
    let (items, answers): (Vec<T>, Vec<_>) = batch.into_iter().map(|q| (q.item, q.answer)).unzip();
    let results = run(items).await;
    debug_assert_eq!(results.len(), answers.len(), "a batch answers every item");
    for (a, r) in answers.into_iter().zip(results) {
        let _ = a.send(r);
    }
    {
        let mut q = lane.borrow_mut();
        match q.waiting.front_mut() {
            Some(next) => {
                // The head has never been handed the lead: batches drain from the head.
                let lead = next.lead.take();
                debug_assert!(lead.is_some(), "the head of the lane already leads");
                if let Some(l) = lead {
                    let _ = l.send(());
                }
            }
            None => q.running = false,
        }
    }
    answer_rx.await.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::LocalSpawnExt;
    use std::rc::Rc;

    /// Items started while a batch runs form the next batch; every item gets its own answer.
    #[test]
    fn items_queued_behind_a_batch_run_together_and_each_gets_its_answer() {
        let mut pool = futures::executor::LocalPool::new();
        let lane: Rc<RefCell<Lane<u32, u32>>> = Rc::new(RefCell::new(Lane::default()));
        let batches: Rc<RefCell<Vec<Vec<u32>>>> = Rc::default();
        let gate: Rc<RefCell<Option<oneshot::Receiver<()>>>> = Rc::default();
        let (open, shut) = oneshot::channel();
        *gate.borrow_mut() = Some(shut);
        let answers: Rc<RefCell<Vec<(u32, u32)>>> = Rc::default();
        for i in 0..5u32 {
            let (lane, batches, gate, answers) = (lane.clone(), batches.clone(), gate.clone(), answers.clone());
            pool.spawner()
                .spawn_local(async move {
                    let a = run(&lane, i, 3, |items: Vec<u32>| {
                        let (batches, gate) = (batches.clone(), gate.clone());
                        async move {
                            batches.borrow_mut().push(items.clone());
                            // The first batch waits until every item has queued.
                            let g = gate.borrow_mut().take();
                            if let Some(g) = g {
                                let _ = g.await;
                            }
                            items.iter().map(|x| x * 10).collect()
                        }
                    })
                    .await;
                    answers.borrow_mut().push((i, a));
                })
                .expect("spawn");
        }
        pool.run_until_stalled();
        let _ = open.send(());
        pool.run();
        assert_eq!(*batches.borrow(), vec![vec![0], vec![1, 2, 3], vec![4]]);
        let mut got = answers.borrow().clone();
        got.sort_unstable();
        assert_eq!(got, (0..5).map(|i| (i, i * 10)).collect::<Vec<_>>());
        assert!(!lane.borrow().running && lane.borrow().waiting.is_empty());
    }
}
