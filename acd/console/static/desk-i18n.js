// The agent desk's words, Chinese (default) and English, added to the console pages'
// (admin-i18n.js). Loaded after admin-i18n.js, before admin.js.
"use strict";

Object.assign(WORDS.zh, {
  deskTitle: "acd 坐席工作台", notAgent: "此用户未绑定坐席：工作台仅供坐席使用。",
  offline: "未连接", live: "实时", reconnecting: "重新连接中…",
  available: "空闲", ringing: "振铃", "on-call": "通话", "wrap-up": "话后", paused: "示忙",
  "logged-out": "未登录", pendingLogout: "通话结束后签出",
  goAvailable: "示闲", goPause: "示忙", endWrapup: "结束话后", goLogout: "签出",
  myQueues: "我的队列", serving: "已签入", notServing: "未签入",
  today: "今日", answeredToday: "接听", talkTime: "通话时长", ahtToday: "平均处理时长",
  satisfaction: "满意度", surveyLegend: "满意 / 一般 / 不满意",
  incoming: "来电", ivrPath: "IVR 路径", callId: "呼叫编号", ivrValues: "IVR 收集与查询结果",
  callBack: "回拨", controls: "通话控制", hold: "保持", unhold: "恢复", consult: "咨询",
  complete: "完成转接", cancelConsult: "取消咨询", conference: "三方通话",
  previousCalls: "历史来电", outcome: "结果", disposition: "分类", call: "呼叫",
  noPrevious: "没有历史来电", previousUnavailable: "历史来电暂不可用：",
  wrapupTitle: "话后处理", popRinging: "振铃中", popConnected: "通话中",
  popHeld: "保持中", popEnded: "已结束", popTransferred: "已转接",
  pickup: "抢接", pickUp: "接听", callExtension: "呼叫分机", calling: "正在呼叫…", notYet: "此功能服务器尚未提供。",
  answered: "已接听", abandoned: "放弃", done: "已执行",
});

Object.assign(WORDS.en, {
  deskTitle: "acd agent desk", notAgent: "This user is bound to no agent: the desk is for agents.",
  offline: "offline", live: "live", reconnecting: "reconnecting…",
  available: "Available", ringing: "Ringing", "on-call": "On call", "wrap-up": "Wrap-up",
  paused: "Paused", "logged-out": "Logged out", pendingLogout: "logs out after this call",
  goAvailable: "Available", goPause: "Pause", endWrapup: "End wrap-up", goLogout: "Log out",
  myQueues: "My queues", serving: "in", notServing: "out",
  today: "Today", answeredToday: "Answered", talkTime: "Talk time", ahtToday: "Avg handle time",
  satisfaction: "Satisfaction", surveyLegend: "satisfied / average / unsatisfied",
  incoming: "Call", ivrPath: "IVR path", callId: "Call id", ivrValues: "What the IVR collected and looked up",
  callBack: "Call back", controls: "Call controls", hold: "Hold", unhold: "Resume",
  consult: "Consult", complete: "Complete transfer", cancelConsult: "Cancel consult",
  conference: "Conference", previousCalls: "Previous calls", outcome: "Outcome",
  disposition: "Category", call: "Call", noPrevious: "No previous calls",
  previousUnavailable: "Previous calls not available: ",
  wrapupTitle: "Wrap-up", popRinging: "ringing", popConnected: "connected",
  popHeld: "on hold", popEnded: "ended", popTransferred: "transferred",
  pickup: "Pick up", pickUp: "Pick up", callExtension: "Call extension", calling: "calling…",
  notYet: "this server does not offer that yet.", answered: "answered", abandoned: "abandoned",
  done: "done",
});
