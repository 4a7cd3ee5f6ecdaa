/// The SPICE curriculum: per-sample redundancy / unique / synergy scores from the model's own
/// predictions, their global normalisation, and the epoch orders built from them (SPICE-E,
/// SPICE-S, annotator and baseline curricula). Plain Swift: no MPI, no model — the distributed
/// plan in `Training` moves scores and index lists between ranks and calls into this module.
public enum CurriculumModule {}
