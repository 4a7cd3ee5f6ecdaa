/// The SPICE curriculum (paper sections 3.3-3.4 and 5): per-sample redundancy / unique / synergy
/// scores from unimodal and fused predictions (`PIDScorer`), their global min-max normalisation
/// (`NormalisedScores`), the epoch orders built from them (`CurriculumPlanner`: SPICE-E weighted
/// orders, SPICE-S stage bins, annotator and hybrid sources, BSS and shuffled baselines), the
/// evaluation metrics (`Metrics`) and logging helpers (`ValueSummary`, `ScoreDump`).
///
/// Plain Swift, no MPI and no model: ranks score their own shards, rank 0 gathers the raw
/// per-sample values (`PIDScores.interleaved`), normalises, builds the order and scatters it.
/// See docs/curriculum.md.
public enum CurriculumModule {}
