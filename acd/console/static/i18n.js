// The console's words, Chinese (default) and English. Loaded before shell.js and console.js.
"use strict";
const WORDS = {
  zh: {
    title: "acd 监控墙", offline: "未连接", live: "实时", reconnecting: "重新连接中…",
    agentRefused: "监控墙仅供班长和管理员使用；坐席请用坐席工作台。", waitingCallers: "排队来电", queue: "队列", position: "位置", caller: "主叫",
    waited: "已等待", agents: "坐席", agent: "工号", name: "姓名", state: "状态",
    reason: "原因", inState: "持续", callsToday: "今日接听", talkToday: "今日通话",
    waiting: "排队", longest: "最长等待", available: "空闲", ringing: "振铃",
    "on-call": "通话", "wrap-up": "话后", paused: "示忙", "logged-out": "未登录",
    offered: "呼入", answered: "接听", abandoned: "放弃", serviceLevel: "服务水平",
    asa: "平均应答", aht: "平均处理", survey: "满意度 1/2/3", vip: "VIP", callback: "回拨",
    unreachable: "话机不可达", clickAgent: "（点击坐席可强制示忙、示闲或签出）", forcePause: "强制示忙",
    forceResume: "强制示闲", forceLogout: "强制签出", done: "已执行",
    listen: "监听", whisper: "耳语", barge: "强插", intercept: "接管",
    },
  en: {
    title: "acd wallboard", offline: "offline", live: "live", reconnecting: "reconnecting…",
    agentRefused: "The wallboard is for supervisors and admins; agents use the agent desk.",
    waitingCallers: "Callers waiting", queue: "Queue", position: "Position",
    caller: "Caller", waited: "Waited", agents: "Agents", agent: "Agent", name: "Name",
    state: "State", reason: "Reason", inState: "For", callsToday: "Calls today",
    talkToday: "Talk today", waiting: "Waiting", longest: "Longest wait",
    available: "Available", ringing: "Ringing", "on-call": "On call", "wrap-up": "Wrap-up",
    paused: "Paused", "logged-out": "Logged out", offered: "Offered", answered: "Answered",
    abandoned: "Abandoned", serviceLevel: "Service level", asa: "ASA", aht: "AHT",
    survey: "Survey 1/2/3", vip: "VIP", callback: "callback",
    unreachable: "phone unreachable", clickAgent: "(click an agent to force a pause, make them available or log them out)",
    forcePause: "Force pause", forceResume: "Make available", forceLogout: "Log out",
    done: "done", listen: "Listen", whisper: "Whisper", barge: "Barge in",
    intercept: "Take over",
    },
};
