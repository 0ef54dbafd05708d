import { getJSON, statusOf } from "../api/client.js";
import { enqueue } from "../offline/outbox.js";

// 在职党员"双报到" for the member: my registration, my community's needs, my claims and hours.
// Writes go through the outbox like every other; the server's answer (a full need, a claim
// already held) is shown on the outbox item, not lost.

// The registration, or null for someone who has not registered yet.
export async function loadMember() {
  try {
    return await getJSON("/api/party/me");
  } catch (err) {
    if (statusOf(err) === 404) return null;
    throw err;
  }
}

// Ended needs too: a claim's hours are reported after its need is over.
export const loadNeeds = () => getJSON("/api/party/needs?ended=true");

export const loadClaims = () => getJSON("/api/party/me/claims");

export function queueRegister({ workUnit, homeCommunity }) {
  return enqueue({
    kind: "party-register",
    label: `双报到：${workUnit}`,
    request: {
      method: "PUT",
      url: "/api/party/me",
      json: { work_unit: workUnit, home_community: homeCommunity },
    },
  });
}

export function queueClaim(need) {
  return enqueue({
    kind: "party-claim",
    label: `认领：${need.title}`,
    meta: { needId: need.id },
    request: { method: "POST", url: `/api/party/needs/${need.id}/claims` },
  });
}

export function queueReport(claim, need, { hours, note }) {
  return enqueue({
    kind: "party-report",
    label: `服务时长：${need?.title ?? `#${claim.need_id}`} ${hours} 小时`,
    meta: { claimId: claim.id },
    request: {
      method: "POST",
      url: `/api/party/claims/${claim.id}/report`,
      json: { hours: Number(hours), note },
    },
  });
}

export const REPORTABLE = new Set(["claimed", "reported", "refused"]);

export function started(need, now = Date.now()) {
  return Date.parse(need.starts_at) <= now;
}

export function notEnded(need, now = Date.now()) {
  return Date.parse(need.ends_at) > now;
}
