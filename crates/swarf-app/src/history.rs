//! Undo and redo as a plain value: the states before each change, with coalescing (typing into
//! one field, or dragging one slider, is one step however many changes it makes).

/// The undo and redo stacks of states `T`.
#[derive(Debug, Clone)]
pub struct History<T> {
    undo: Vec<T>,
    redo: Vec<T>,
    /// The coalescing key of the last change recorded: another change with the same key adds
    /// no step.
    last_key: Option<u64>,
}

impl<T> Default for History<T> {
    fn default() -> Self {
        Self {
            undo: Vec::new(),
            redo: Vec::new(),
            last_key: None,
        }
    }
}

impl<T> History<T> {
    /// Records `before`, the state a change replaces. With a `key` equal to the last change's
    /// key the change continues that step (nothing is recorded); `None` always makes a step.
    /// Any new change drops what could be redone.
    pub fn record(&mut self, before: T, key: Option<u64>) {
        let continues = key.is_some() && key == self.last_key && !self.undo.is_empty();
        if !continues {
            self.undo.push(before);
        }
        self.last_key = key;
        self.redo.clear();
    }

    /// Ends the current coalescing run: the next change is a step of its own.
    pub fn seal(&mut self) {
        self.last_key = None;
    }

    /// Steps back: returns the state before the last change and keeps `current` for redo.
    pub fn undo(&mut self, current: T) -> Result<T, T> {
        match self.undo.pop() {
            Some(prev) => {
                self.redo.push(current);
                self.last_key = None;
                Ok(prev)
            }
            None => Err(current),
        }
    }

    /// Steps forward again: returns the state undone last and keeps `current` for undo.
    pub fn redo(&mut self, current: T) -> Result<T, T> {
        match self.redo.pop() {
            Some(next) => {
                self.undo.push(current);
                self.last_key = None;
                Ok(next)
            }
            None => Err(current),
        }
    }

    /// Takes back the last recorded step without making it redoable (a change that failed).
    pub fn drop_last(&mut self) -> Option<T> {
        self.last_key = None;
        self.undo.pop()
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }

    pub fn clear(&mut self) {
        self.undo.clear();
        self.redo.clear();
        self.last_key = None;
    }
}

#[cfg(test)]
mod tests {
    use super::History;

    #[test]
    fn undo_and_redo_walk_the_states_and_a_new_change_drops_redo() {
        let mut h = History::default();
        let mut state = 0;
        for next in 1..=3 {
            h.record(state, None);
            state = next;
        }
        state = h.undo(state).unwrap();
        assert_eq!(state, 2);
        state = h.undo(state).unwrap();
        assert_eq!(state, 1);
        state = h.redo(state).unwrap();
        assert_eq!(state, 2);
        assert!(h.can_redo());
        h.record(state, None);
        state = 7;
        assert!(!h.can_redo(), "a new change drops what could be redone");
        assert_eq!(h.redo(state), Err(7));
        state = h.undo(state).unwrap();
        assert_eq!(state, 2);
        state = h.undo(state).unwrap();
        state = h.undo(state).unwrap();
        assert_eq!(state, 0);
        assert_eq!(h.undo(state), Err(0));
    }

    #[test]
    fn changes_with_one_key_are_one_step_until_sealed_or_another_key() {
        let mut h = History::default();
        let mut s = String::new();
        // Typing "abc" into field 1: one step.
        for c in ['a', 'b', 'c'] {
            h.record(s.clone(), Some(1));
            s.push(c);
        }
        // Field 2: a new step; then field 1 again: another one.
        h.record(s.clone(), Some(2));
        s.push('X');
        h.record(s.clone(), Some(1));
        s.push('d');
        // Sealed (focus left the field): the same field makes a new step.
        h.seal();
        h.record(s.clone(), Some(1));
        s.push('e');
        let mut seen = Vec::new();
        while let Ok(prev) = h.undo(s.clone()) {
            s = prev;
            seen.push(s.clone());
        }
        assert_eq!(seen, ["abcXd", "abcX", "abc", ""]);
        // Undo ends a run: typing after it is a step of its own.
        let mut h = History::default();
        h.record(0, Some(5));
        let back = h.undo(1).unwrap();
        h.record(back, Some(5));
        assert!(h.can_undo());
    }

    #[test]
    fn a_failed_change_is_taken_back_without_a_redo() {
        let mut h = History::default();
        h.record("before", None);
        assert_eq!(h.drop_last(), Some("before"));
        assert!(!h.can_undo() && !h.can_redo());
    }
}
