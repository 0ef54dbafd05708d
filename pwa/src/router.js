import { createRouter, createWebHistory } from "vue-router";
import { useSession } from "./stores/session.js";

// Views load on demand, so the first screen carries only the shell and the page it opens.
const routes = [
  // The map is a tab, not the door: MapLibre is three times the rest of the app.
  { path: "/", name: "home", redirect: () => useSession().home },
  { path: "/map", name: "map", component: () => import("./views/MapView.vue"), meta: { public: true } },
  { path: "/sign-in", name: "sign-in", component: () => import("./views/SignInView.vue"), meta: { public: true } },
  { path: "/outbox", name: "outbox", component: () => import("./views/OutboxView.vue"), meta: { public: true } },
  // A visitor reports without an account and follows the request by its tracking code.
  { path: "/report", name: "report", component: () => import("./views/ReportView.vue"), meta: { public: true } },
  { path: "/codes", name: "codes", component: () => import("./views/CodesView.vue"), meta: { public: true } },
  { path: "/track", name: "track", component: () => import("./views/TrackView.vue"), meta: { public: true } },
  { path: "/track/:code", name: "tracked", component: () => import("./views/TrackView.vue"), props: true, meta: { public: true } },
  { path: "/sign-up", name: "sign-up", component: () => import("./views/SignUpView.vue"), meta: { public: true } },
  {
    path: "/password-reset",
    name: "password-reset",
    component: () => import("./views/SignUpView.vue"),
    props: { reset: true },
    meta: { public: true },
  },
  { path: "/mine", name: "mine", component: () => import("./views/CaseListView.vue"), props: { name: "mine" } },
  { path: "/inbox", name: "inbox", component: () => import("./views/CaseListView.vue"), props: { name: "inbox" } },
  { path: "/patrol", name: "patrol", component: () => import("./views/PatrolView.vue") },
  { path: "/screen", name: "screen", component: () => import("./views/ScreenView.vue"), meta: { wall: true } },
  { path: "/cases/:id", name: "case", component: () => import("./views/CaseView.vue"), props: true },
  { path: "/tasks", name: "tasks", component: () => import("./views/TasksView.vue") },
  { path: "/broadcasts", name: "broadcasts", component: () => import("./views/BroadcastListView.vue") },
  { path: "/broadcasts/:id", name: "broadcast", component: () => import("./views/BroadcastView.vue"), props: true },
  { path: "/dashboard", name: "dashboard", component: () => import("./views/DashboardView.vue") },
  { path: "/party", name: "party", component: () => import("./governance/PartyView.vue") },
  { path: "/party-needs", name: "party-needs", component: () => import("./governance/NeedsView.vue") },
  { path: "/emergency", name: "emergency", component: () => import("./governance/EmergencyView.vue") },
  { path: "/hotline", name: "hotline", component: () => import("./hotline/HotlineView.vue") },
  { path: "/people", name: "people", component: () => import("./people/PeopleView.vue") },
  { path: "/people/:id", name: "person", component: () => import("./people/PersonView.vue"), props: true },
  { path: "/categories", name: "categories", component: () => import("./admin/CategoriesView.vue") },
  { path: "/calendar", name: "calendar", component: () => import("./admin/CalendarView.vue") },
  { path: "/grids/:code", name: "grid", component: () => import("./views/GridView.vue"), props: true },
  { path: "/password", name: "password", component: () => import("./views/PasswordView.vue") },
  { path: "/notices", name: "notices", component: () => import("./views/NoticesView.vue") },
];

export const router = createRouter({
  // The backend serves the app under /app/.
  history: createWebHistory("/app/"),
  routes,
});

router.beforeEach((to) => {
  if (to.meta.public) return true;
  const session = useSession();
  if (!session.token) return { name: "sign-in", query: { next: to.fullPath } };
  // A one-time password opens nothing else until it is changed (the API answers 403 too).
  if (session.mustChangePassword && to.name !== "password") return { name: "password" };
  return true;
});
