// Chinese names of the workflow's statuses and actions (backend/cases/states.py).
export const STATUS = {
  submitted: "待受理",
  accepted: "已立案",
  rejected: "不予受理",
  dispatched: "已派遣",
  handling: "处置中",
  handled: "已处置",
  verified: "已核查",
  closed: "已结案",
  withdrawn: "已撤回",
  shelved: "挂账",
  voided: "已作废",
  merged: "已并案",
};

export const STATUS_COLOR = {
  submitted: "warning",
  accepted: "primary",
  dispatched: "primary",
  handling: "primary",
  handled: "success",
  verified: "success",
  closed: "default",
};

export const ACTION = {
  accept: "受理立案",
  reject: "不予受理",
  dispatch: "派遣",
  start: "开始处置",
  handle: "处置完成",
  self_handle: "自处理",
  verify: "核查通过",
  rework: "返工",
  close: "结案",
  escalate: "上报上级",
  withdraw: "撤回",
  rate: "评价",
  reopen: "重新打开",
  request_return: "申请回退",
  request_extension: "申请延期",
  approve_extension: "批准延期",
  refuse_extension: "驳回延期",
  request_shelve: "申请挂账",
  unshelve: "恢复办理",
  request_void: "申请作废",
  approve: "批准申请",
  refuse: "驳回申请",
  verify_on_site: "现场核查",
  remind: "催办",
  supervise: "督办",
  transfer: "移交",
  accept_transfer: "接收移交",
  refuse_transfer: "拒绝移交",
  add_department: "增加联办部门",
  merge: "并案",
  pause: "申请挂起",
  resume: "恢复计时",
  // One-step actions of timelines logged before approvals.
  return: "回退",
  shelve: "挂账",
  void: "作废",
};

// Timeline entries that are not workflow actions (backend/cases/service.py and scheduler.py).
export const EVENT = {
  submit: "提交",
  photo: "上传照片",
  support: "附议",
  overdue: "已超期",
  due_changed: "时限调整",
};

export const LEVEL = { grid: "网格", community: "社区", street: "街道", district: "区县", city: "市" };

export const KIND = { request: "诉求", incident: "事件", task: "任务" };

export const OPEN = new Set(["submitted", "accepted", "dispatched", "handling", "handled", "verified"]);

/**
 * @param {{ status: string, due_at?: string | null }} c a case
 * @param {number} [now]
 */
export function isOverdue(c, now = Date.now()) {
  return OPEN.has(c.status) && c.due_at && Date.parse(c.due_at) < now;
}
