//! Pair verification: distance between two faces, the same-person decision and what it means
//! to a person reading it.

use serde::Serialize;

use crate::vision::embed;
use crate::vision::models::Thresholds;

/// How sure the decision is, in words a user reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    VeryLikelySame,
    Uncertain,
    Different,
}

impl Confidence {
    /// The sentence the UI shows.
    pub fn meaning(self) -> &'static str {
        match self {
            Confidence::VeryLikelySame => "very likely the same person",
            Confidence::Uncertain => "uncertain",
            Confidence::Different => "different people",
        }
    }
}

/// The answer for one pair (field names are a command-line contract).
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub distance: f32,
    pub threshold: f32,
    pub same_person: bool,
    pub confidence: Confidence,
    pub meaning: &'static str,
}

/// Classify a distance between two vectors of the model whose thresholds are `t`.
pub fn confidence(t: &Thresholds, distance: f32) -> Confidence {
    if distance < t.uncertain_low {
        Confidence::VeryLikelySame
    } else if distance <= t.uncertain_high {
        Confidence::Uncertain
    } else {
        Confidence::Different
    }
}

/// Compare two vectors of the same model (whose thresholds are `t`).
pub fn verify(t: &Thresholds, a: &[f32], b: &[f32]) -> Verdict {
    let distance = embed::distance(a, b);
    let c = confidence(t, distance);
    Verdict {
        distance,
        threshold: t.verify,
        same_person: distance < t.verify,
        confidence: c,
        meaning: c.meaning(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_follows_each_models_threshold() {
        for spec in crate::vision::models::EMBEDDERS {
            let t = &spec.thresholds;
            let a = vec![0.0f32; spec.dims];
            let mut b = a.clone();
            b[0] = t.verify - 0.01;
            assert!(verify(t, &a, &b).same_person, "{}", spec.id());
            b[0] = t.verify + 0.01;
            let v = verify(t, &a, &b);
            assert!(!v.same_person);
            assert_eq!(v.confidence, Confidence::Uncertain);
            b[0] = t.uncertain_high + 0.1;
            assert_eq!(verify(t, &a, &b).confidence, Confidence::Different);
            b[0] = t.uncertain_low - 0.1;
            assert_eq!(verify(t, &a, &b).meaning, "very likely the same person");
        }
    }
}
