/**
 * The developer's optional note to the reviewer, written on the "Submit for review" confirmation.
 * The API and the workflow have no field for it (issue 20 asked not to change the workflow), so the
 * pages keep it here: in this process's memory, bound to the service and the revision submitted.
 * It is lost when the process restarts and not shared between API processes, and the review page
 * says nothing when it is missing; a durable note needs a field in the submit command.
 */
const MAX_NOTES = 5_000;
const notes = new Map<string, { revision: number; note: string; at: string; by: string }>();

export function keepReviewNote(serviceId: string, revision: number, note: string, by: string): void {
  const text = note.trim().slice(0, 2000);
  notes.delete(serviceId);
  if (!text) return;
  if (notes.size >= MAX_NOTES) notes.delete(notes.keys().next().value!);
  notes.set(serviceId, { revision, note: text, at: new Date().toISOString(), by });
}

/** The note for exactly this submission (a later edit or resubmission without a note hides it). */
export function reviewNote(serviceId: string, revision: number) {
  const found = notes.get(serviceId);
  return found && found.revision === revision ? found : null;
}
