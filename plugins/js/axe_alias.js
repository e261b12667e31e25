;try{Object.defineProperty(window,'__govaudit_axe',{value:window.axe,configurable:false});}catch(e){}
