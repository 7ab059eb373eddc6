//! Pair verification: distance between two faces, the same-person decision and what it means
//! to a person reading it.

use serde::Serialize;

use crate::settings;
use crate::vision::embed;

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

/// Classify a distance.
pub fn confidence(distance: f32) -> Confidence {
    if distance < settings::VERIFY_UNCERTAIN_LOW {
        Confidence::VeryLikelySame
    } else if distance <= settings::VERIFY_UNCERTAIN_HIGH {
        Confidence::Uncertain
    } else {
        Confidence::Different
    }
}

/// Compare two descriptors of the same model.
pub fn verify(a: &[f32], b: &[f32]) -> Verdict {
    let distance = embed::distance(a, b);
    let c = confidence(distance);
    Verdict {
        distance,
        threshold: settings::VERIFY_THRESHOLD,
        same_person: distance < settings::VERIFY_THRESHOLD,
        confidence: c,
        meaning: c.meaning(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_follows_the_threshold() {
        let a = vec![0.0f32; 128];
        let mut b = a.clone();
        b[0] = settings::VERIFY_THRESHOLD - 0.01;
        assert!(verify(&a, &b).same_person);
        b[0] = settings::VERIFY_THRESHOLD + 0.01;
        let v = verify(&a, &b);
        assert!(!v.same_person);
        assert_eq!(v.confidence, Confidence::Uncertain);
        b[0] = 1.0;
        assert_eq!(verify(&a, &b).confidence, Confidence::Different);
        b[0] = 0.1;
        assert_eq!(verify(&a, &b).meaning, "very likely the same person");
    }
}
